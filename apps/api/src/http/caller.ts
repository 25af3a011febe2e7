import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';
import type { Caller } from '@app/core';

export type RequestWithCaller = Request & { caller?: Caller };

/** The caller the API-key guard identified. */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  return context.switchToHttp().getRequest<RequestWithCaller>().caller ?? { keyHash: null };
});
