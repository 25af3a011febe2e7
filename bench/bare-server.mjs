// A reference for what HTTP plus SHA-256 cost on this machine: Node's own HTTP server writing
// each PUT body at its Content-Range offset while hashing it with SHA-256. No framework,
// database, lease or fdatasync; writes are synchronous, into the page cache. A child process,
// like the service's API. Writes BARE_DIR/upload.bin, listens on 127.0.0.1:BARE_PORT.
// PUT /discard reads each body and drops it: what the client and HTTP alone can carry, the most
// any server can measure with this client.
import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const target = join(process.env.BARE_DIR, 'upload.bin');

async function receive(request) {
  const start = Number(/^bytes (\d+)-/.exec(request.headers['content-range'] ?? '')?.[1]);
  if (!Number.isSafeInteger(start)) throw new Error('send Content-Range: bytes <start>-<end>/<total>');
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT);
  const hash = createHash('sha256');
  try {
    let position = start;
    for await (const piece of request) {
      hash.update(piece);
      for (let done = 0; done < piece.length; ) done += writeSync(fd, piece, done, piece.length - done, position + done);
      position += piece.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Reads the body to its end and keeps nothing of it. */
async function discard(request) {
  for await (const piece of request) void piece;
  return null;
}

const server = createServer((request, response) => {
  (request.url === '/discard' ? discard(request) : receive(request)).then(
    (sha256) => response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ sha256 })),
    (error) => response.writeHead(400).end(error.message),
  );
});
// Longer than any pause of the benchmark, so its keep-alive client never reuses a socket the
// server is closing at that moment.
server.keepAliveTimeout = 10 * 60_000;
server.listen(Number(process.env.BARE_PORT), '127.0.0.1', () => {
  // The parent waits for this line before it starts timing.
  console.log('bare server ready');
});
