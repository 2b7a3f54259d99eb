// Goal: ACL users resolve their rules like Redis (in order, later wins, categories and subcommands), authenticate plain and hashed passwords, and bad rules fail at start-up naming the option.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError } from '@shoal/common';
import { Acl } from './acl.js';
import { createCommandTable } from './commands/index.js';
import { proxyUserSchema } from './config.js';
import { globMatch } from '@shoal/common';

const table = createCommandTable();
const users = (...u: object[]) => u.map((x) => proxyUserSchema.parse(x));
const spec = (name: string) => table.getFull(name)!;

describe('Acl', () => {
  it('the default user follows requirePass', () => {
    const open = new Acl({ requirePass: '', users: [] }, table);
    assert.ok(open.defaultAuthenticated);
    assert.equal(open.authRequired({ authenticated: false }), false);
    const closed = new Acl({ requirePass: 'pw', users: [] }, table);
    assert.ok(!closed.defaultAuthenticated);
    assert.ok(closed.authRequired({ authenticated: false }));
    assert.equal(closed.authenticate(Buffer.from('default'), Buffer.from('pw'))?.name, 'default');
    assert.equal(closed.authenticate(Buffer.from('default'), Buffer.from('nope')), null);
  });

  it('applies command rules in order: categories, commands, subcommands', () => {
    const acl = new Acl({ requirePass: '', users: users(
      { name: 'a', nopass: true, commands: ['+@all', '-@dangerous', '+client|list'] },
      { name: 'b', nopass: true, commands: ['nocommands', '+get', '+client'] },
      { name: 'c', nopass: true, commands: ['+@read', '-get'] },
    ) }, table);
    const a = acl.user('a')!;
    assert.ok(acl.canRun(a, spec('get')));
    assert.ok(!acl.canRun(a, spec('flushall')));
    assert.ok(!acl.canRun(a, spec('client|kill')));
    assert.ok(acl.canRun(a, spec('client|list')), 'a later rule re-allows one subcommand');
    const b = acl.user('b')!;
    assert.ok(acl.canRun(b, spec('get')) && !acl.canRun(b, spec('set')));
    assert.ok(acl.canRun(b, spec('client|kill')), '+client allows every subcommand');
    const c = acl.user('c')!;
    assert.ok(acl.canRun(c, spec('mget')) && !acl.canRun(c, spec('get')) && !acl.canRun(c, spec('set')));
  });

  it('accepts SHA-256 digests written #<hex>; disabled users never authenticate', () => {
    const digest = createHash('sha256').update('s3cret').digest('hex');
    const acl = new Acl({ requirePass: '', users: users({ name: 'h', passwords: [`#${digest}`] }, { name: 'off', nopass: true, enabled: false }) }, table);
    assert.equal(acl.authenticate(Buffer.from('h'), Buffer.from('s3cret'))?.name, 'h');
    assert.equal(acl.authenticate(Buffer.from('h'), Buffer.from(`#${digest}`)), null);
    assert.equal(acl.authenticate(Buffer.from('off'), Buffer.from('x')), null);
  });

  it('table permissions are Redis globs', () => {
    const acl = new Acl({ requirePass: '', users: users({ name: 't', nopass: true, tables: ['orders', 'user_*'] }) }, table);
    const t = acl.user('t')!;
    assert.ok(acl.canAccessTable(t, 'orders') && acl.canAccessTable(t, 'user_eu'));
    assert.ok(!acl.canAccessTable(t, 'default'));
  });

  it('bad rules and conflicting settings fail with a ConfigError naming the option', () => {
    assert.throws(() => new Acl({ requirePass: '', users: users({ name: 'x', commands: ['+nosuchcmd'] }) }, table),
      (e: unknown) => e instanceof ConfigError && e.option === 'users[0].commands[0]');
    assert.throws(() => new Acl({ requirePass: '', users: users({ name: 'x', commands: ['+@nosuchcat'] }) }, table),
      (e: unknown) => e instanceof ConfigError && e.option === 'users[0].commands[0]');
    assert.throws(() => new Acl({ requirePass: '', users: users({ name: 'x', commands: ['get'] }) }, table), ConfigError);
    assert.throws(() => new Acl({ requirePass: 'pw', users: users({ name: 'default', nopass: true }) }, table),
      (e: unknown) => e instanceof ConfigError && e.option === 'requirePass');
    assert.throws(() => new Acl({ requirePass: '', users: users({ name: 'd' }, { name: 'd' }) }, table),
      (e: unknown) => e instanceof ConfigError && e.option === 'users[1].name');
  });
});

describe('globMatch (Redis stringmatchlen)', () => {
  const cases: [string, string, boolean, boolean?][] = [
    // Redis' loop never runs for an empty subject, so even '*' does not match it (SCAN special-cases MATCH *).
    ['*', '', false], ['*', 'anything', true], ['h?llo', 'hello', true], ['h?llo', 'hllo', false],
    ['h*llo', 'heeeello', true], ['h[ae]llo', 'hallo', true], ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true], ['h[^e]llo', 'hello', false], ['h[a-b]llo', 'hbllo', true], ['h[b-a]llo', 'hallo', true],
    ['h\\*llo', 'h*llo', true], ['h\\*llo', 'hello', false], ['user:*', 'user:1', true], ['user:*', 'item:1', false],
    ['SLOWLOG-*', 'slowlog-max-len', true, true], ['SLOWLOG-*', 'slowlog-max-len', false], ['a*b*c', 'aXbYc', true], ['a*b*c', 'aXbY', false],
  ];
  for (const [p, s, want, nocase] of cases) {
    it(`${p} ${want ? 'matches' : 'does not match'} ${JSON.stringify(s)}${nocase === true ? ' (nocase)' : ''}`, () => {
      assert.equal(globMatch(p, s, nocase ?? false), want);
    });
  }

  it('gives up on abusive patterns instead of running forever', () => {
    const started = Date.now();
    globMatch('*a'.repeat(50) + 'b', 'a'.repeat(200));
    assert.ok(Date.now() - started < 1000);
  });
});
