import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { WEB_FILES } from './web-assets';
import { WebPageMiddleware } from './web-page.middleware';

/** The upload page at `/`; see WebPageMiddleware. */
@Module({})
export class WebPageModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    const routes = Object.keys(WEB_FILES).flatMap((path) => [RequestMethod.GET, RequestMethod.HEAD].map((method) => ({ path, method })));
    consumer.apply(WebPageMiddleware).forRoutes(...routes);
  }
}
