import type { INestApplication } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { DocumentBuilder, OpenAPIObject, OperationObject, PathItemObject, SwaggerModule } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PublicRoute } from '../http/api-key.guard';
import { ANSWERS_HEAD_EXTENSION } from './decorators';
import { openApiSchemas } from './schemas';

/** Swagger UI is served here, the document at `/docs-json`. */
export const DOCS_PATH = 'docs';
const API_KEY_SCHEME = 'apiKey';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const DESCRIPTION = `Chunked, resumable file uploads that survive cuts, restarts and retries, verified byte for byte.

1. \`POST /resumable-upload/initiate\` declares the file; the answer gives \`uploadUrl\` and \`statusUrl\`.
2. \`PUT\` every chunk to \`uploadUrl\` with its \`Content-Range\`: in any order, in parallel, retried as often as needed. The chunk that completes the set starts assembly.
3. After an interruption, \`GET\` the status: \`missingChunks\` / \`missingRanges\` say what to send again.
4. Poll the status (or \`POST …/complete\`) until it is \`completed\`, then \`GET …/file\`.

**Errors** all share one body, \`ErrorBody\`: \`{statusCode, code, message, …details}\`. \`code\` is stable and machine-readable; every response below lists the codes it can carry. A request Node's HTTP parser refuses (a malformed header, conflicting body lengths) gets \`400 VALIDATION_FAILED\` (\`431\` for oversized headers) on any route.

**Authentication**: \`Authorization: Bearer <key>\` on every route but the public ones (health checks, metrics), enforced only when the server has \`API_KEYS\` set (without it every route is open). Each key sees only the uploads it created.`;

/** The OpenAPI document, generated from the controllers' decorators; limits are this server's configuration. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = app.get<AppConfig>(APP_CONFIG);
  const builder = new DocumentBuilder()
    .setTitle('Resumable upload API')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .addTag('uploads', 'Initiate, send chunks, follow, complete, download and abort uploads.')
    .addTag('tus', 'tus 1.0.0 at /files/ (tus-js-client, Uppy): the same uploads as above, through the tus protocol.')
    .addTag('health', 'Liveness and readiness probes; no API key needed.')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'One of the keys in API_KEYS. Only enforced when the server has API_KEYS set.' },
      API_KEY_SCHEME,
    )
    .addSecurityRequirements(API_KEY_SCHEME);
  // Behind a proxy the browser's origin may not be the API's: try-it-out requests go to PUBLIC_BASE_URL.
  if (config.publicBaseUrl) builder.addServer(config.publicBaseUrl);
  const base = builder.build();
  base.components = { ...base.components, schemas: openApiSchemas(config) };
  const handlers = routeHandlers(app);
  const document = SwaggerModule.createDocument(app, base, { operationIdFactory: handlerId });
  return finishDocument(document, handlers);
}

/** Serves Swagger UI at /docs and the document at /docs-json, both without an API key. */
export function setupOpenApi(app: INestApplication): void {
  // These are plain Express routes, outside Nest's router: the API-key guard never sees them.
  SwaggerModule.setup(DOCS_PATH, app, buildOpenApiDocument(app), { raw: ['json'], customSiteTitle: 'Resumable upload API' });
}

interface RouteHandler {
  name: string;
  isPublic: boolean;
}

function handlerId(controller: string, method: string): string {
  return `${controller}.${method}`;
}

/**
 * Every controller method, by handlerId, with whether the API-key guard lets it through without
 * a key. Reading the guard's own PublicRoute metadata keeps the document's security from drifting.
 */
function routeHandlers(app: INestApplication): Map<string, RouteHandler> {
  const reflector = app.get(Reflector);
  const publicKey = PublicRoute().KEY;
  const handlers = new Map<string, RouteHandler>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      if (!metatype) continue;
      for (const name of Object.getOwnPropertyNames(metatype.prototype)) {
        // The descriptor, not the property: reading a getter would run it.
        const method: unknown = Object.getOwnPropertyDescriptor(metatype.prototype, name)?.value;
        if (name === 'constructor' || typeof method !== 'function') continue;
        handlers.set(handlerId(metatype.name, name), { name, isPublic: reflector.getAllAndOverride<boolean>(publicKey, [method, metatype]) === true });
      }
    }
  }
  return handlers;
}

/**
 * Public operations drop the bearer requirement, operation ids become the handler names
 * (`initiate`, `putChunk`…) for generated clients, and GETs marked @ApiAnswersHead get their HEAD twin.
 */
function finishDocument(document: OpenAPIObject, handlers: Map<string, RouteHandler>): OpenAPIObject {
  for (const pathItem of Object.values(document.paths) as PathItemObject[]) {
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      const handler = operation?.operationId === undefined ? undefined : handlers.get(operation.operationId);
      if (!operation || !handler) continue;
      operation.operationId = handler.name;
      if (handler.isPublic) operation.security = [];
    }
    const get = pathItem.get as (OperationObject & Record<string, unknown>) | undefined;
    if (get?.[ANSWERS_HEAD_EXTENSION]) {
      delete get[ANSWERS_HEAD_EXTENSION];
      pathItem.head = headTwin(get);
    }
  }
  return document;
}

/** The HEAD operation Express derives from a GET route: the same headers and statuses, never a body. */
function headTwin(get: OperationObject): OperationObject {
  const head = structuredClone(get);
  head.operationId = `${get.operationId}Head`;
  head.summary = `${get.summary ?? ''} (headers only)`.trim();
  for (const response of Object.values(head.responses)) delete (response as { content?: unknown }).content;
  return head;
}
