// The @tus/server + @tus/file-store baseline, run as its own process so its RSS and CPU are
// its own, like the service's API. Stores under TUS_DIR, listens on 127.0.0.1:TUS_PORT.
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

const server = new Server({
  path: '/files',
  datastore: new FileStore({ directory: process.env.TUS_DIR }),
});

const httpServer = server.listen({ host: '127.0.0.1', port: Number(process.env.TUS_PORT) }, () => {
  // The parent waits for this line before it starts timing.
  console.log('tus server ready');
});
// Longer than any pause of the benchmark, so its keep-alive client never reuses a socket the
// server is closing at that moment.
httpServer.keepAliveTimeout = 10 * 60_000;
