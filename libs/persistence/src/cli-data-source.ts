// Entry point for the TypeORM CLI (`npm run migration:generate`): the same data source the apps use.
import { loadConfig } from '@app/config';
import { createDataSource } from './data-source';

export default createDataSource(loadConfig().databaseUrl, 'resumable-upload-cli');
