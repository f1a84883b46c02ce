// The floor for engine-io.bench.ts: a wire-protocol server that frames and decodes each OP_MSG
// (BSON included) and answers without storing anything — {ok:1, n:1} for an insert, a standalone
// hello for the handshake. Run as a child process; prints `bare ready PORT`.
import net from 'node:net';
import { Framer, OP_MSG, OP_QUERY, opMsgReply, opReply, parseMessage } from '../server/engine/wire';

const hello = () => ({
  helloOk: true,
  isWritablePrimary: true,
  ismaster: true,
  maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  logicalSessionTimeoutMinutes: 30,
  connectionId: 1,
  minWireVersion: 0,
  maxWireVersion: 21,
  ok: 1,
});

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  const framer = new Framer();
  sock.on('data', (d) => {
    for (const raw of framer.push(d)) {
      const req = parseMessage(raw);
      const name = Object.keys(req.doc)[0] ?? '';
      const reply = name === 'hello' || name === 'isMaster' || name === 'ismaster' ? hello() : name === 'insert' ? { n: 1, ok: 1 } : { ok: 1 };
      if (req.opCode === OP_QUERY) sock.write(opReply(req.requestId, reply));
      else if (req.opCode === OP_MSG) sock.write(opMsgReply(req.requestId, reply));
    }
  });
  sock.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`bare ready ${(server.address() as net.AddressInfo).port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
