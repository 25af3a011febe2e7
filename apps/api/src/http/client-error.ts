import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface ParserRefusal {
  status: number;
  reason: string;
  message: string;
}

const MALFORMED: ParserRefusal = {
  status: 400,
  reason: 'Bad Request',
  message: 'The request is not valid HTTP/1.1 (a malformed header, conflicting body lengths, or a body cut short): fix it and send it again.',
};

/** Node's codes for the refusals that are not plain malformed requests. */
const REFUSALS: Record<string, ParserRefusal> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', message: 'The request headers are too large: send fewer or shorter headers.' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, reason: 'Payload Too Large', message: 'The chunked body carries too many chunk extensions: send the body without them.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', message: 'The request headers did not arrive in time: send the request again.' },
};

/**
 * Node's HTTP parser refuses some requests before any route sees them (a NUL in a header, both
 * Content-Length and Transfer-Encoding, two Content-Lengths, oversized headers, headers that
 * never finish). By default it answers them with a bare status line; answer in the contract's
 * JSON shape instead.
 */
export function answerMalformedRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // A connection the client dropped, or one already answering an earlier request (a pipelined
    // one): writing now would corrupt that answer, so only close it.
    const answering = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, reason, message } = REFUSALS[error.code ?? ''] ?? MALFORMED;
    const body = JSON.stringify({ statusCode: status, code: status === 408 ? 'REQUEST_TIMEOUT' : 'VALIDATION_FAILED', message });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
