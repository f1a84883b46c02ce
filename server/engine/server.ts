// TCP server: frames the byte stream into wire messages, runs each command through the engine
// (one at a time per connection, in order) and writes the replies.
import net from 'node:net';
import type { ConnInfo, Engine } from './commands';
import { ServerError } from './errors';
import { FLAG_MORE_TO_COME, Framer, OP_COMPRESSED, OP_MSG, OP_QUERY, opMsgReply, opReply, parseMessage } from './wire';

export class WireServer {
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private nextConnId = 1;

  constructor(
    private readonly engine: Engine,
    private readonly log: (msg: string) => void,
  ) {
    this.server = net.createServer((s) => this.onConnection(s));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  private onConnection(sock: net.Socket): void {
    sock.setNoDelay(true);
    this.sockets.add(sock);
    const local = (sock.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const conn = { id: this.nextConnId++, remote: `${sock.remoteAddress}:${sock.remotePort}`, local: `${local.includes(':') ? `[${local}]` : local}:${sock.localPort}` };
    const framer = new Framer();
    let chain: Promise<void> = Promise.resolve();
    sock.on('data', (data) => {
      let msgs: Buffer[];
      try {
        msgs = framer.push(data);
      } catch (e) {
        this.log(`connection ${conn.id}: ${(e as Error).message}; closing`);
        sock.destroy();
        return;
      }
      for (const m of msgs) chain = chain.then(() => this.handle(m, sock, conn));
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.sockets.delete(sock));
  }

  private async handle(raw: Buffer, sock: net.Socket, conn: ConnInfo): Promise<void> {
    let req;
    try {
      req = parseMessage(raw);
    } catch (e) {
      if (e instanceof ServerError && raw.readInt32LE(12) === OP_MSG) {
        if (!sock.destroyed) sock.write(opMsgReply(raw.readInt32LE(4), e.toReply()));
        return;
      }
      this.log(`connection ${conn.id}: bad message: ${(e as Error).message}`);
      sock.destroy();
      return;
    }
    if (req.opCode === OP_QUERY) {
      const name = Object.keys(req.doc)[0] ?? '';
      let reply;
      if (['isMaster', 'ismaster', 'hello'].includes(name)) {
        if (!req.doc.$db && req.ns) req.doc.$db = req.ns.split('.')[0];
        reply = await this.engine.run(req.doc, conn);
      } else {
        reply = new ServerError(5739101, `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`).toReply();
      }
      if (!sock.destroyed) sock.write(opReply(req.requestId, reply));
      return;
    }
    if (req.opCode === OP_COMPRESSED) {
      this.log(`connection ${conn.id}: OP_COMPRESSED received although no compressor was negotiated; closing`);
      sock.destroy();
      return;
    }
    if (req.opCode !== OP_MSG) {
      this.log(`connection ${conn.id}: unsupported opcode ${req.opCode}; closing`);
      sock.destroy();
      return;
    }
    const reply = await this.engine.run(req.doc, conn);
    if (req.flags & FLAG_MORE_TO_COME) return; // fire-and-forget (w:0): no reply
    if (!sock.destroyed) sock.write(opMsgReply(req.requestId, reply));
  }
}
