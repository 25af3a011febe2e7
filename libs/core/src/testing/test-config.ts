import { AppConfig, loadConfig } from '@app/config';

/** The defaults of every setting, with `complete` answering at once unless a test says otherwise. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({}), completeWaitMs: 0, ...overrides };
}
