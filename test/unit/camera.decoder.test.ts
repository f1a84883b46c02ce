import { expect } from 'chai';
import { chooseDecoder, nativeFormats } from '../../client/lib/barcode-decoder';
import { cameraProblem, createSightings } from '../../client/lib/camera-scan';

describe('camera scanning: choice of decoder, sightings, camera failures', () => {
  it("uses the browser's BarcodeDetector only when it reads both Code 128 and DataMatrix, else the WebAssembly decoder", () => {
    expect(chooseDecoder(['code_128', 'data_matrix', 'qr_code'])).to.equal('native');
    expect(chooseDecoder(['qr_code', 'code_128'])).to.equal('wasm');
    expect(chooseDecoder([])).to.equal('wasm');
    expect(chooseDecoder(null)).to.equal('wasm');
    expect(chooseDecoder(undefined)).to.equal('wasm');
  });

  it("reads the detector's formats, and treats a missing or failing detector as none", async () => {
    expect(await nativeFormats({})).to.equal(null);
    expect(await nativeFormats({ BarcodeDetector: { getSupportedFormats: async () => ['data_matrix'] } })).to.deep.equal(['data_matrix']);
    expect(await nativeFormats({ BarcodeDetector: { getSupportedFormats: async () => Promise.reject(new Error('no')) } })).to.equal(null);
  });

  it('counts a barcode held in view once, and again only after it has been out of view for the hold time', () => {
    const fresh = createSightings(1000);
    expect(fresh('A', 0)).to.equal(true);
    expect(fresh('A', 400)).to.equal(false);
    expect(fresh('A', 1300)).to.equal(false); // still in view: each sighting restarts the hold
    expect(fresh('B', 1350)).to.equal(true);
    expect(fresh('A', 2400)).to.equal(true);
  });

  it('names the camera failure the user can act on', () => {
    expect(cameraProblem({ name: 'NotAllowedError' })).to.equal('denied');
    expect(cameraProblem({ name: 'NotFoundError' })).to.equal('absent');
    expect(cameraProblem({ name: 'NotReadableError' })).to.equal('unavailable');
    expect(cameraProblem(new Error('x'))).to.equal('unavailable');
  });
});
