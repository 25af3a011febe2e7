import { signWebhook } from './webhook-signature';

// The published vector of the Standard Webhooks reference libraries.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

/** The key's bytes: the base64 after `whsec_`. */
const keyOf = (secret: string) => Buffer.from(secret.slice('whsec_'.length), 'base64');

describe(signWebhook.name, () => {
  it('signs the published test vector as the spec does', () => {
    expect(signWebhook(keyOf(VECTOR.secret), VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('gives another signature for another timestamp, id or body', () => {
    const key = keyOf(VECTOR.secret);
    expect(signWebhook(key, VECTOR.id, VECTOR.timestamp + 1, VECTOR.body)).not.toBe(VECTOR.signature);
    expect(signWebhook(key, 'msg_other', VECTOR.timestamp, VECTOR.body)).not.toBe(VECTOR.signature);
    expect(signWebhook(key, VECTOR.id, VECTOR.timestamp, '{"test": 2432232315}')).not.toBe(VECTOR.signature);
  });
});
