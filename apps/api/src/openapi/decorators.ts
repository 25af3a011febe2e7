import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiParam, ApiResponse } from '@nestjs/swagger';
import { UploadErrorCode } from '@app/core';
import { ERROR_STATUS } from '../http/error-status';
import { RETRY_AFTER } from './headers';
import { ERROR_DESCRIPTIONS, RETRY_AFTER_CODES, UPLOAD_ID_SCHEMA, errorSchema } from './schemas';

/** Marks a GET whose HEAD twin setupOpenApi adds to the document (see finishDocument). */
export const ANSWERS_HEAD_EXTENSION = 'x-answers-head';

/**
 * The error responses of a route or controller: one response per status, built from ERROR_STATUS,
 * whose `code` enum lists exactly the codes given and whose description says what each means.
 */
export function ApiErrors(...codes: UploadErrorCode[]) {
  const byStatus = new Map<number, UploadErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, sameStatus]) =>
      ApiResponse({
        status,
        description: sameStatus.map((code) => `\`${code}\`: ${ERROR_DESCRIPTIONS[code]}`).join('\n\n'),
        schema: errorSchema(sameStatus),
        // No `headers` key at all otherwise: responses for one status merge, and an undefined would erase another's.
        ...(sameStatus.some((code) => RETRY_AFTER_CODES.has(code)) ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
      }),
    ),
  );
}

/** The `{uploadId}` path parameter. */
export function ApiUploadIdParam() {
  return ApiParam({ name: 'uploadId', description: 'The `uploadId` returned by initiate.', schema: UPLOAD_ID_SCHEMA });
}

/** A GET route that Express also answers for HEAD (headers only); the document gets a HEAD operation for it. */
export function ApiAnswersHead() {
  return ApiExtension(ANSWERS_HEAD_EXTENSION, true);
}
