// A TCP port on 127.0.0.1 that is free right now: asked from the OS, then released. Tests use it to
// start a server on a known port, or as an address where nothing listens (a model server "down").
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
