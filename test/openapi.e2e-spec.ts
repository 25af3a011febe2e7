// The rule keeps libs off apps; this test must compare the document with the API's own status map.
import { ERROR_STATUS } from '../apps/api/src/http/error-status';
import { Stack } from './support/stack';
import { useStack } from './support/upload-client';

type Json = Record<string, any>;

const API_KEY = 'openapi-key-0123456789abcdef';
const SOME_UPLOAD_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const CHUNK_ROUTE = 'PUT /resumable-upload/chunk';
const INITIATE_ROUTE = 'POST /resumable-upload/initiate';
const DOWNLOAD_ROUTE = 'GET /resumable-upload/uploads/{uploadId}/file';

/**
 * What the contract says each route answers: status → the error codes that status can carry
 * (none for a success). Written out by hand, from CONTRACT.md and the README, so the document is
 * checked against the contract rather than against the code that generates it.
 */
const CONTRACT: Record<string, Record<number, string[]>> = {
  [INITIATE_ROUTE]: {
    200: [],
    201: [],
    400: ['VALIDATION_FAILED'],
    401: ['UNAUTHORIZED'],
    413: ['FILE_TOO_LARGE'],
    422: ['IDEMPOTENCY_KEY_REUSED'],
    429: ['RATE_LIMITED'],
    503: ['SERVICE_UNAVAILABLE'],
    507: ['INSUFFICIENT_STORAGE'],
  },
  [CHUNK_ROUTE]: {
    200: [],
    400: ['INVALID_UPLOAD_ID', 'INVALID_CONTENT_RANGE', 'LENGTH_MISMATCH', 'INVALID_DIGEST'],
    401: ['UNAUTHORIZED'],
    404: ['UPLOAD_NOT_FOUND'],
    408: ['REQUEST_TIMEOUT'],
    409: ['UPLOAD_NOT_ACCEPTING', 'CHUNK_CONFLICT', 'CHUNK_IN_PROGRESS'],
    410: ['UPLOAD_EXPIRED', 'UPLOAD_ABORTED'],
    413: ['CHUNK_TOO_LARGE'],
    416: ['RANGE_NOT_SATISFIABLE'],
    422: ['CHECKSUM_MISMATCH'],
    503: ['SERVICE_UNAVAILABLE'],
    507: ['INSUFFICIENT_STORAGE'],
  },
  'GET /resumable-upload/uploads/{uploadId}': {
    200: [],
    400: ['INVALID_UPLOAD_ID'],
    401: ['UNAUTHORIZED'],
    404: ['UPLOAD_NOT_FOUND'],
    503: ['SERVICE_UNAVAILABLE'],
  },
  'POST /resumable-upload/uploads/{uploadId}/complete': {
    200: [],
    202: [],
    400: ['VALIDATION_FAILED', 'INVALID_UPLOAD_ID'],
    401: ['UNAUTHORIZED'],
    404: ['UPLOAD_NOT_FOUND'],
    409: ['UPLOAD_INCOMPLETE', 'UPLOAD_NOT_ACCEPTING'],
    410: ['UPLOAD_EXPIRED', 'UPLOAD_ABORTED'],
    422: ['CHECKSUM_MISMATCH'],
    503: ['SERVICE_UNAVAILABLE'],
  },
  [DOWNLOAD_ROUTE]: {
    200: [],
    206: [],
    304: [],
    400: ['INVALID_UPLOAD_ID'],
    401: ['UNAUTHORIZED'],
    404: ['UPLOAD_NOT_FOUND'],
    409: ['UPLOAD_NOT_COMPLETED'],
    410: ['UPLOAD_EXPIRED', 'UPLOAD_ABORTED'],
    416: ['RANGE_NOT_SATISFIABLE'],
    503: ['SERVICE_UNAVAILABLE'],
  },
  'DELETE /resumable-upload/uploads/{uploadId}': {
    204: [],
    400: ['INVALID_UPLOAD_ID'],
    401: ['UNAUTHORIZED'],
    404: ['UPLOAD_NOT_FOUND'],
    410: ['UPLOAD_EXPIRED'],
    503: ['SERVICE_UNAVAILABLE'],
  },
  // tus 1.0 at /files/ (the contract's tus section; errors keep the JSON body with their code).
  'OPTIONS /files': { 204: [] },
  'POST /files': {
    201: [],
    400: ['VALIDATION_FAILED'],
    401: ['UNAUTHORIZED'],
    403: ['UPLOAD_IS_FINAL'],
    408: ['REQUEST_TIMEOUT'],
    409: ['UPLOAD_OFFSET_MISMATCH'],
    410: ['UPLOAD_FAILED'],
    412: ['TUS_VERSION_UNSUPPORTED'],
    413: ['FILE_TOO_LARGE', 'CHUNK_TOO_LARGE'],
    415: ['UNSUPPORTED_MEDIA_TYPE'],
    429: ['RATE_LIMITED'],
    460: ['UPLOAD_CHECKSUM_MISMATCH'],
    503: ['SERVICE_UNAVAILABLE'],
    507: ['INSUFFICIENT_STORAGE'],
  },
  // HEAD is tus's offset query; a GET of the upload's URL redirects to its download.
  'GET /files/{uploadId}': {
    200: [],
    307: [],
    400: ['INVALID_UPLOAD_ID'],
    401: ['UNAUTHORIZED'],
    404: ['UPLOAD_NOT_FOUND'],
    410: ['UPLOAD_EXPIRED', 'UPLOAD_ABORTED', 'UPLOAD_FAILED'],
    412: ['TUS_VERSION_UNSUPPORTED'],
    503: ['SERVICE_UNAVAILABLE'],
  },
  'PATCH /files/{uploadId}': {
    204: [],
    400: ['VALIDATION_FAILED', 'INVALID_UPLOAD_ID'],
    401: ['UNAUTHORIZED'],
    403: ['UPLOAD_IS_FINAL'],
    404: ['UPLOAD_NOT_FOUND'],
    408: ['REQUEST_TIMEOUT'],
    409: ['UPLOAD_OFFSET_MISMATCH', 'UPLOAD_NOT_ACCEPTING', 'CHUNK_CONFLICT', 'CHUNK_IN_PROGRESS'],
    410: ['UPLOAD_EXPIRED', 'UPLOAD_ABORTED', 'UPLOAD_FAILED'],
    412: ['TUS_VERSION_UNSUPPORTED'],
    413: ['CHUNK_TOO_LARGE'],
    415: ['UNSUPPORTED_MEDIA_TYPE'],
    423: ['UPLOAD_IN_PROGRESS'],
    460: ['UPLOAD_CHECKSUM_MISMATCH'],
    503: ['SERVICE_UNAVAILABLE'],
    507: ['INSUFFICIENT_STORAGE'],
  },
  'DELETE /files/{uploadId}': {
    204: [],
    400: ['INVALID_UPLOAD_ID'],
    401: ['UNAUTHORIZED'],
    404: ['UPLOAD_NOT_FOUND'],
    410: ['UPLOAD_EXPIRED'],
    412: ['TUS_VERSION_UNSUPPORTED'],
    503: ['SERVICE_UNAVAILABLE'],
  },
  'GET /health/live': { 200: [] },
  'GET /health/ready': { 200: [], 503: ['SERVICE_UNAVAILABLE'] },
};
// HEAD on the file is GET without a body: the same statuses, but no body to carry a code.
for (const route of [DOWNLOAD_ROUTE, 'GET /files/{uploadId}']) CONTRACT[route.replace('GET', 'HEAD')] = Object.fromEntries(Object.keys(CONTRACT[route]).map((status) => [status, []]));

/** Where the contract says a response carries a header: route → status → header names. */
const RESPONSE_HEADERS: Record<string, Record<number, string[]>> = {
  [INITIATE_ROUTE]: { 200: ['Location'], 201: ['Location'], 429: ['Retry-After'], 503: ['Retry-After'], 507: ['Retry-After'] },
  [CHUNK_ROUTE]: { 409: ['Retry-After'], 503: ['Retry-After'], 507: ['Retry-After'] },
  'POST /resumable-upload/uploads/{uploadId}/complete': { 202: ['Retry-After'] },
  'OPTIONS /files': { 204: ['Tus-Version', 'Tus-Max-Size', 'Tus-Extension', 'Tus-Checksum-Algorithm'] },
  'POST /files': { 201: ['Location', 'Upload-Offset', 'Upload-Expires'], 429: ['Retry-After'] },
  'HEAD /files/{uploadId}': { 200: ['Upload-Offset', 'Upload-Length', 'Upload-Metadata', 'Upload-Concat', 'Upload-Expires', 'Cache-Control'] },
  'PATCH /files/{uploadId}': { 204: ['Upload-Offset', 'Upload-Expires'], 423: ['Retry-After'] },
  [DOWNLOAD_ROUTE]: {
    200: ['Content-Length', 'Content-Type', 'Content-Disposition', 'ETag', 'Accept-Ranges'],
    206: ['Content-Length', 'Content-Type', 'Content-Disposition', 'ETag', 'Content-Range'],
    304: ['ETag'],
    416: ['Content-Range'],
  },
};

/** Every operation of the document as "METHOD /path" → operation. */
function operations(document: Json): Map<string, Json> {
  const found = new Map<string, Json>();
  for (const [path, item] of Object.entries<Json>(document.paths ?? {})) {
    for (const method of HTTP_METHODS) if (item[method]) found.set(`${method.toUpperCase()} ${path}`, item[method]);
  }
  return found;
}

/** Follows a local `$ref` (`#/components/schemas/X`). */
function resolve(document: Json, node: Json): Json | undefined {
  if (typeof node?.$ref !== 'string') return node;
  return node.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((at: Json | undefined, key: string) => at?.[key], document);
}

/** The error codes a response's schema admits: the `code` enums of its own (not referenced) parts. */
function documentedCodes(response: Json): string[] {
  const codes: string[] = [];
  const visit = (schema: Json | undefined) => {
    if (!schema || schema.$ref) return;
    codes.push(...(schema.properties?.code?.enum ?? []));
    (schema.allOf ?? []).forEach(visit);
  };
  visit(response.content?.['application/json']?.schema);
  return codes.sort();
}

function refersTo(schema: Json | undefined, name: string): boolean {
  if (!schema) return false;
  return schema.$ref === `#/components/schemas/${name}` || (schema.allOf ?? []).some((part: Json) => refersTo(part, name));
}

function parameter(operation: Json, location: string, name: string): Json | undefined {
  return (operation.parameters ?? []).find((candidate: Json) => candidate.in === location && candidate.name.toLowerCase() === name.toLowerCase());
}

/**
 * What keeps a document from being a usable OpenAPI 3 document: version, info, operations with
 * described responses, path parameters that match the path templates, unique operation ids,
 * `$ref`s and security requirements that point at something.
 */
function openApiProblems(document: Json): string[] {
  const problems: string[] = [];
  if (!/^3\.\d+\.\d+$/.test(document.openapi ?? '')) problems.push(`openapi is ${document.openapi}, not 3.x.y`);
  if (typeof document.info?.title !== 'string' || typeof document.info?.version !== 'string') problems.push('info needs a title and a version');
  const schemes = Object.keys(document.components?.securitySchemes ?? {});
  const checkSecurity = (where: string, requirements: Json[] | undefined) => {
    for (const requirement of requirements ?? []) for (const name of Object.keys(requirement)) if (!schemes.includes(name)) problems.push(`${where}: unknown security scheme ${name}`);
  };
  checkSecurity('root', document.security);

  const operationIds = new Set<string>();
  for (const [route, operation] of operations(document)) {
    const path = route.split(' ')[1];
    if (!path.startsWith('/')) problems.push(`${route}: paths start with /`);
    if (typeof operation.operationId !== 'string' || operationIds.has(operation.operationId)) problems.push(`${route}: missing or repeated operationId ${operation.operationId}`);
    operationIds.add(operation.operationId);
    checkSecurity(route, operation.security);

    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
    const declared = (operation.parameters ?? []).filter((candidate: Json) => candidate.in === 'path');
    if (JSON.stringify(declared.map((candidate: Json) => candidate.name).sort()) !== JSON.stringify(templated)) problems.push(`${route}: path parameters do not match the template`);
    if (declared.some((candidate: Json) => candidate.required !== true)) problems.push(`${route}: path parameters must be required`);
    const seen = new Set<string>();
    for (const candidate of operation.parameters ?? []) {
      const key = `${candidate.in}:${String(candidate.name).toLowerCase()}`;
      if (!['query', 'header', 'path', 'cookie'].includes(candidate.in) || !candidate.name || seen.has(key)) problems.push(`${route}: bad or repeated parameter ${key}`);
      if (!candidate.schema && !candidate.content) problems.push(`${route}: parameter ${key} has no schema`);
      seen.add(key);
    }

    const responses = Object.entries<Json>(operation.responses ?? {});
    if (responses.length === 0) problems.push(`${route}: no responses`);
    for (const [status, response] of responses) {
      if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) problems.push(`${route}: bad status ${status}`);
      if (typeof response.description !== 'string') problems.push(`${route} ${status}: responses need a description`);
    }
  }

  JSON.stringify(document, (key, value) => {
    if (key === '$ref' && resolve(document, { $ref: value }) === undefined) problems.push(`dangling $ref ${value}`);
    return value;
  });
  return problems;
}

async function fetchText(stack: Stack, method: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(stack.url(path), { method, headers });
  const text = await response.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text).code;
  } catch {
    code = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, code };
}

/** A documented path made requestable: path parameters filled in with a well-formed id. */
function requestPath(path: string): string {
  return path.replace(/\{[^}]+\}/g, SOME_UPLOAD_ID);
}

describe('OpenAPI document and Swagger UI', () => {
  // Keys on: the docs must stay public while every upload route needs one.
  const context = useStack({ workers: 0, env: { API_KEYS: API_KEY } });
  let document: Json;

  beforeAll(async () => {
    const answer = await fetchText(context.stack, 'GET', '/docs-json');
    if (answer.status !== 200) throw new Error(`/docs-json answered ${answer.status}: ${answer.text}`);
    document = JSON.parse(answer.text);
  });

  it('serves Swagger UI at /docs without an API key, although API_KEYS is set', async () => {
    const { stack } = context;
    // The control: this stack does demand a key on upload routes.
    expect((await fetchText(stack, 'GET', `/resumable-upload/uploads/${SOME_UPLOAD_ID}`)).status).toBe(401);

    const page = await fetchText(stack, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger-ui');
    const init = await fetchText(stack, 'GET', '/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('/resumable-upload/chunk');
    const assets = await fetchText(stack, 'GET', '/docs/swagger-ui-bundle.js');
    expect(assets.status).toBe(200);
  });

  it('serves /docs-json without an API key, as JSON', async () => {
    const answer = await fetchText(context.stack, 'GET', '/docs-json');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^application\/json/);
  });

  it('is a valid OpenAPI 3 document', () => {
    expect(openApiProblems(document)).toEqual([]);
  });

  it('finds the problems it looks for (the validity check itself works)', () => {
    const broken = structuredClone(document);
    broken.openapi = '2.0';
    const status = broken.paths['/resumable-upload/uploads/{uploadId}'].get;
    status.parameters = status.parameters.filter((candidate: Json) => candidate.in !== 'path');
    status.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/Nowhere' };
    expect(openApiProblems(broken)).toEqual(
      expect.arrayContaining([
        'openapi is 2.0, not 3.x.y',
        'GET /resumable-upload/uploads/{uploadId}: path parameters do not match the template',
        'dangling $ref #/components/schemas/Nowhere',
      ]),
    );
  });

  it('documents every route of the contract with its methods', () => {
    const documented = [...operations(document).keys()];
    expect(documented).toEqual(expect.arrayContaining(Object.keys(CONTRACT)));
  });

  it.each(Object.keys(CONTRACT))('%s documents the statuses and error codes the contract gives it', (route) => {
    const operation = operations(document).get(route);
    expect(operation).toBeDefined();
    const documented = Object.fromEntries(Object.entries<Json>(operation!.responses).map(([status, response]) => [status, documentedCodes(response)]));
    const expected = Object.fromEntries(Object.entries(CONTRACT[route]).map(([status, codes]) => [status, [...codes].sort()]));
    expect(documented).toEqual(expected);
  });

  it('gives every error response the error body, and no success or HEAD response', () => {
    for (const [route, operation] of operations(document)) {
      for (const [status, response] of Object.entries<Json>(operation.responses)) {
        const schema = response.content?.['application/json']?.schema;
        const isError = Number(status) >= 400 && !route.startsWith('HEAD ');
        expect({ route, status, errorBody: refersTo(schema, 'ErrorBody') }).toEqual({ route, status, errorBody: isError });
        for (const code of documentedCodes(response)) expect({ route, code, status: ERROR_STATUS[code as keyof typeof ERROR_STATUS] }).toEqual({ route, code, status: Number(status) });
      }
    }
  });

  it('has an error schema whose code is an enum of every code in ERROR_STATUS, each documented on some route', () => {
    const errorBody = document.components.schemas.ErrorBody;
    expect(errorBody.required).toEqual(expect.arrayContaining(['statusCode', 'code', 'message']));
    expect([...errorBody.properties.code.enum].sort()).toEqual(Object.keys(ERROR_STATUS).sort());

    const usedSomewhere = new Set([...operations(document).values()].flatMap((operation) => Object.values<Json>(operation.responses).flatMap(documentedCodes)));
    expect(Object.keys(ERROR_STATUS).filter((code) => !usedSomewhere.has(code))).toEqual([]);
  });

  it.each(Object.keys(RESPONSE_HEADERS))('%s documents the response headers of the contract', (route) => {
    const operation = operations(document).get(route)!;
    for (const [status, headers] of Object.entries(RESPONSE_HEADERS[route])) {
      expect({ status, headers: Object.keys(operation.responses[status]?.headers ?? {}) }).toEqual({ status, headers: expect.arrayContaining(headers) });
    }
  });

  it('documents the chunk route: upload id as query or header, Content-Range, Content-Length, Content-Digest, a raw body', () => {
    const chunk = operations(document).get(CHUNK_ROUTE)!;
    expect(parameter(chunk, 'query', 'uploadId')).toMatchObject({ required: false });
    expect(parameter(chunk, 'header', 'Upload-Id')).toMatchObject({ required: false });
    expect(parameter(chunk, 'header', 'Content-Range')).toMatchObject({ required: true });
    expect(parameter(chunk, 'header', 'Content-Length')).toMatchObject({ required: false });
    expect(parameter(chunk, 'header', 'Content-Digest')).toMatchObject({ required: false });
    expect(parameter(chunk, 'header', 'Content-Digest')!.description).toMatch(/sha-256/);
    expect(chunk.requestBody).toMatchObject({ required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } });
    expect(Object.keys(chunk.requestBody.content)).toEqual(['application/octet-stream']);
  });

  it('documents initiate: the Idempotency-Key header and the body fields, with the required ones marked', () => {
    const initiate = operations(document).get(INITIATE_ROUTE)!;
    expect(parameter(initiate, 'header', 'Idempotency-Key')).toMatchObject({ required: false });
    expect(initiate.requestBody.required).toBe(true);
    const body = resolve(document, initiate.requestBody.content['application/json'].schema)!;
    expect(Object.keys(body.properties).sort()).toEqual(['chunkSize', 'contentType', 'fileName', 'fileSize', 'metadata', 'sha256']);
    expect([...body.required].sort()).toEqual(['fileName', 'fileSize']);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.chunkSize).toMatchObject({ type: 'integer', minimum: 256 * 1024, maximum: 64 * 1024 * 1024 });
    expect(body.properties.fileSize).toMatchObject({ type: 'integer', minimum: 0 });
    expect(body.properties.sha256.pattern).toBe('^[0-9a-fA-F]{64}$');
    expect(body.properties.metadata).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(resolve(document, initiate.responses['201'].content['application/json'].schema)!.required).toEqual(
      expect.arrayContaining(['uploadId', 'uploadUrl', 'statusUrl', 'chunkSize', 'totalChunks', 'expiresAt']),
    );
  });

  it('documents complete with an optional {sha256} body, and downloads with Range and If-None-Match', () => {
    const complete = operations(document).get('POST /resumable-upload/uploads/{uploadId}/complete')!;
    expect(complete.requestBody.required).toBe(false);
    expect(Object.keys(resolve(document, complete.requestBody.content['application/json'].schema)!.properties)).toEqual(['sha256']);
    for (const route of [DOWNLOAD_ROUTE, DOWNLOAD_ROUTE.replace('GET', 'HEAD')]) {
      const download = operations(document).get(route)!;
      expect(parameter(download, 'header', 'Range')).toBeDefined();
      expect(parameter(download, 'header', 'If-None-Match')).toBeDefined();
    }
    // A HEAD answer never has a body.
    const head = operations(document).get(DOWNLOAD_ROUTE.replace('GET', 'HEAD'))!;
    expect(Object.values<Json>(head.responses).filter((response) => response.content)).toEqual([]);
  });

  it('documents the tus request headers, and tus discovery as public', () => {
    const create = operations(document).get('POST /files')!;
    for (const name of ['Upload-Length', 'Upload-Metadata', 'Upload-Checksum', 'Upload-Concat']) expect(parameter(create, 'header', name)).toMatchObject({ required: false });
    expect(parameter(create, 'header', 'Tus-Resumable')).toMatchObject({ required: true });
    const patch = operations(document).get('PATCH /files/{uploadId}')!;
    expect(parameter(patch, 'header', 'Upload-Offset')).toMatchObject({ required: true });
    expect(parameter(patch, 'header', 'Upload-Checksum')).toMatchObject({ required: false });
    expect(Object.keys(patch.requestBody.content)).toEqual(['application/offset+octet-stream']);
    expect(operations(document).get('OPTIONS /files')!.security).toEqual([]);
  });

  it('declares the API key as an HTTP bearer scheme, required by default and only enforced with API_KEYS', () => {
    const schemes = Object.entries<Json>(document.components.securitySchemes);
    expect(schemes).toHaveLength(1);
    const [name, scheme] = schemes[0];
    expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(scheme.description).toMatch(/API_KEYS/);
    expect(document.security).toEqual([{ [name]: [] }]);
    for (const route of ['GET /health/live', 'GET /health/ready']) expect(operations(document).get(route)!.security).toEqual([]);
  });

  it('documents exactly the routes Nest registered (its start-up log)', () => {
    const registered = [...context.stack.api.log.matchAll(/Mapped \{([^,}]+), ([A-Z]+)\} route/g)].map(([, path, method]) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    expect(registered.length).toBeGreaterThan(0);
    // Express answers HEAD for every GET route; the document lists HEAD only where it is a feature.
    const documented = [...operations(document).keys()].filter((route) => !route.startsWith('HEAD '));
    expect([...new Set(documented)].sort()).toEqual([...new Set(registered)].sort());
    for (const route of operations(document).keys()) if (route.startsWith('HEAD ')) expect(registered).toContain(route.replace('HEAD', 'GET'));
  });

  it('answers every documented operation with its documented security: 401 without a key unless the route is public', async () => {
    const { stack } = context;
    // The control: a route that does not exist is a 404 NOT_FOUND, key or no key, so neither answer below can come from a missing route.
    expect(await fetchText(stack, 'GET', '/resumable-upload/no-such-route')).toMatchObject({ status: 404, code: 'NOT_FOUND' });

    for (const [route, operation] of operations(document)) {
      const [method, path] = route.split(' ');
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
      const anonymous = await fetchText(stack, method, requestPath(path));
      expect({ route, unauthorized: anonymous.status === 401 }).toEqual({ route, unauthorized: !isPublic });
      if (isPublic) expect({ route, code: anonymous.code }).not.toEqual({ route, code: 'NOT_FOUND' });
      if (method === 'HEAD') continue;
      // With the key the route itself answers: whatever it says, it is not the missing-route 404.
      const keyed = await fetchText(stack, method, requestPath(path), { authorization: `Bearer ${API_KEY}` });
      expect({ route, code: keyed.code }).not.toEqual({ route, code: 'NOT_FOUND' });
    }
  });
});

describe('OpenAPI document of a configured server', () => {
  const context = useStack({ workers: 0, env: { PUBLIC_BASE_URL: 'https://uploads.example.com', MAX_FILE_SIZE: '5m', DEFAULT_CHUNK_SIZE: '1m' } });

  it('states this server’s limits and public URL', async () => {
    const answer = await fetchText(context.stack, 'GET', '/docs-json');
    expect(answer.status).toBe(200);
    const document = JSON.parse(answer.text);
    expect(document.servers).toEqual([expect.objectContaining({ url: 'https://uploads.example.com' })]);
    const body = document.components.schemas.InitiateRequest;
    expect(body.properties.fileSize.maximum).toBe(5 * 1024 * 1024);
    expect(body.properties.chunkSize.default).toBe(1024 * 1024);
  });
});
