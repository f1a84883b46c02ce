// Scanning with the device camera where no handheld scanner is attached: a dialog shows the rear
// camera, frames are decoded continuously, and each barcode that comes into view is handed to the
// page's own code-entry path once; the page says whether it took the code, and the dialog confirms
// or refuses it on the spot (message, sound, vibration) with the line's running count.
import { createDecoder, type FrameDecoder } from './barcode-decoder';

/** What the page did with one decoded text. */
export interface ScanOutcome {
  accepted: boolean;
  message: string;
}

export interface CameraLabels {
  starting: string;
  loading: string;
  ready: string;
  denied: string;
  absent: string;
  unavailable: string;
  insecure: string;
  decoderFailed: string;
}

export interface CameraScanOptions {
  dialog: HTMLDialogElement;
  /** Which line the camera scans for, shown under the dialog's title. */
  subtitle: string;
  labels: CameraLabels;
  /** Feeds one decoded text into the page's code entry. */
  enter(text: string): ScanOutcome;
  /** The line's running count against its expected packs. */
  count(): string;
}

/** How long a barcode must be out of view before it counts as scanned again. */
export const SIGHTING_HOLD_MS = 1500;
const FRAME_PAUSE_MS = 100;

/**
 * Tells a new sighting from the same barcode still in view: a text counts when it was not seen in
 * the last `holdMs`; every sighting restarts its hold, so a pack held in front of the camera is one scan.
 */
export function createSightings(holdMs = SIGHTING_HOLD_MS): (text: string, at: number) => boolean {
  const lastSeen = new Map<string, number>();
  return (text, at) => {
    const previous = lastSeen.get(text);
    lastSeen.set(text, at);
    return previous === undefined || at - previous > holdMs;
  };
}

/** The message key for a getUserMedia failure. */
export function cameraProblem(err: unknown): keyof CameraLabels {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'absent';
  return 'unavailable';
}

interface Session {
  stop(): void;
}

let current: Session | null = null;

/** Stops the camera and closes the dialog, if a scan is open. */
export function stopCameraScan(): void {
  current?.stop();
  current = null;
}

let lifecycleBound = false;
function bindLifecycle(): void {
  if (lifecycleBound) return;
  lifecycleBound = true;
  // NOTE: a camera left running in a hidden tab keeps the device's light on and drains the battery.
  window.addEventListener('pagehide', stopCameraScan);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') stopCameraScan();
  });
}

/** Opens the camera dialog for one line; call from a click, so sound may play. */
export function openCameraScan(options: CameraScanOptions): void {
  stopCameraScan();
  bindLifecycle();
  const { dialog, labels } = options;
  const video = dialog.querySelector<HTMLVideoElement>('[data-camera-video]')!;
  const message = dialog.querySelector<HTMLElement>('[data-camera-message]')!;
  const problem = dialog.querySelector<HTMLElement>('[data-camera-problem]')!;
  const countEl = dialog.querySelector<HTMLElement>('[data-camera-count]')!;
  const subtitle = dialog.querySelector<HTMLElement>('[data-camera-subtitle]');
  const audio = makeAudio();
  let stream: MediaStream | null = null;
  let stopped = false;

  const say = (text: string, state: 'info' | 'ok' | 'bad') => {
    message.textContent = text;
    message.dataset.state = state;
  };
  const fail = (key: keyof CameraLabels) => {
    problem.textContent = labels[key];
    problem.hidden = false;
    message.textContent = '';
    dialog.dataset.cameraState = 'failed';
    releaseStream();
  };
  const releaseStream = () => {
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
  };

  const session: Session = {
    stop() {
      if (stopped) return;
      stopped = true;
      releaseStream();
      void audio?.close().catch(() => undefined);
      dialog.dataset.cameraState = 'closed';
      if (dialog.open) dialog.close();
    },
  };
  current = session;
  dialog.addEventListener('close', () => {
    if (current === session) stopCameraScan();
  }, { once: true });

  if (subtitle) subtitle.textContent = options.subtitle;
  problem.hidden = true;
  problem.textContent = '';
  countEl.textContent = options.count();
  delete dialog.dataset.decoder;
  dialog.dataset.cameraState = 'starting';
  say(labels.starting, 'info');
  if (!dialog.open) dialog.showModal();

  void (async () => {
    if (!window.isSecureContext) return fail('insecure');
    if (!navigator.mediaDevices?.getUserMedia) return fail('absent');
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } } });
    } catch (err) {
      if (!stopped) fail(cameraProblem(err));
      return;
    }
    if (stopped) return releaseStream();
    video.srcObject = stream;
    await video.play().catch(() => undefined);
    say(labels.loading, 'info');
    let decoder: FrameDecoder;
    try {
      decoder = await createDecoder();
    } catch {
      if (!stopped) fail('decoderFailed');
      return;
    }
    if (stopped) return;
    dialog.dataset.decoder = decoder.kind;
    dialog.dataset.cameraState = 'scanning';
    say(labels.ready, 'info');
    const fresh = createSightings();
    while (!stopped) {
      const texts = await decoder.decode(video).catch(() => [] as string[]);
      for (const text of texts) {
        if (stopped || !fresh(text.trim(), performance.now())) continue;
        const outcome = options.enter(text.trim());
        say(outcome.message, outcome.accepted ? 'ok' : 'bad');
        countEl.textContent = options.count();
        signal(audio, outcome.accepted);
      }
      await new Promise((resolve) => setTimeout(resolve, FRAME_PAUSE_MS));
    }
  })();
}

function makeAudio(): AudioContext | null {
  try {
    return typeof AudioContext === 'function' ? new AudioContext() : null;
  } catch {
    return null;
  }
}

/** A short high beep for a code taken, a low buzz for one refused; a vibration where the device has one. */
function signal(audio: AudioContext | null, accepted: boolean): void {
  navigator.vibrate?.(accepted ? 60 : [90, 60, 90]);
  if (!audio || audio.state === 'closed') return;
  try {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = accepted ? 'sine' : 'square';
    oscillator.frequency.value = accepted ? 1760 : 220;
    gain.gain.value = 0.06;
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + (accepted ? 0.08 : 0.25));
  } catch {
    // NOTE: sound is a courtesy; the message on screen is the confirmation.
  }
}
