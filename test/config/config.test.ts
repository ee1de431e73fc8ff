import { ConfigError, loadConfig } from '../../config/index.js';
import { absoluteSessionTtl } from '../../src/provider/provider-factory.js';

describe('configuration', () => {
  it('has safe defaults and derives the store from the URLs', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.publicUrl.href).toBe('http://localhost:3000/');
    expect(config.storage).toEqual({ durable: 'memory', ephemeral: 'memory' });
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).storage).toEqual({ durable: 'memory', ephemeral: 'redis' });
    expect(loadConfig({ MONGODB_URI: 'mongodb://localhost/x' }).storage).toEqual({ durable: 'mongo', ephemeral: 'mongo' });
  });

  it.each([
    ['PORT', 'not-a-number'],
    ['PUBLIC_URL', 'ftp://example.com'],
    ['PUBLIC_URL', 'https://example.com/auth'],
    ['ADMIN_API_KEY', 'short'],
    ['SECRETS_KEY', 'dG9vIHNob3J0'],
    ['MONGODB_URI', 'postgres://x'],
    ['REDIS_URL', 'http://x'],
    ['LOG_LEVEL', 'loud'],
    ['RATE_LIMIT_ENABLED', 'maybe'],
  ])('stops on a bad %s and names it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^Invalid configuration: ${variable}`));
  });

  it('refuses deliver mode without any transport', () => {
    expect(() => loadConfig({ MESSAGING_MODE: 'deliver' })).toThrow(/MESSAGING_MODE/);
  });
});

describe('absolute session lifetime', () => {
  it('counts from sign-in and is not renewed by activity', () => {
    expect(absoluteSessionTtl(undefined, 3600, 1000)).toBe(3600);
    expect(absoluteSessionTtl(1000, 3600, 1000)).toBe(3600);
    expect(absoluteSessionTtl(1000, 3600, 4000)).toBe(600);
    expect(absoluteSessionTtl(1000, 3600, 9000)).toBe(1);
  });
});
