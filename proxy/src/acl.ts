/**
 * Users, passwords and permissions: Redis ACL semantics for the parts a proxy needs.
 *
 * Every connection starts as the `default` user. It is authenticated from the start when
 * `default` needs no password (`nopass`, as with an empty `requirePass`); otherwise only
 * commands flagged `no_auth` (AUTH, HELLO, QUIT, RESET) run until AUTH succeeds.
 *
 * Permissions: command rules are applied in order (`+@all`, `-@dangerous`, `+get`,
 * `-config|set`, `allcommands`, `nocommands`), the later winning, and resolved once at
 * start-up into the set of command full names the user may run. Table patterns (Redis
 * globs) say which tables' data the user may read and write; a table stands where Redis
 * has key patterns, so commands touching a table outside them answer NOPERM.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError, globMatch } from '@shoal/common';
import type { ProxyConfig, ProxyUserConfig } from './config.js';
import { ACL_CATEGORIES } from './commands/types.js';
import type { AclCategory } from './commands/types.js';
import type { CommandSpec, CommandTable } from './commands/table.js';

export interface AclUser {
  readonly name: string;
  readonly enabled: boolean;
  readonly nopass: boolean;
  /** SHA-256 digests of the accepted passwords. */
  readonly passwordHashes: readonly Buffer[];
  /** Full names (`get`, `client|list`) of the commands the user may run. */
  readonly allowed: ReadonlySet<string>;
  readonly tablePatterns: readonly string[];
}

const HASH_RE = /^#[0-9a-fA-F]{64}$/;
/** Longer names are never configured users; not decoded at all. */
const USER_NAME_BYTES_MAX = 1024;

function sha256(password: Uint8Array | string): Buffer {
  return createHash('sha256').update(password).digest();
}

function isCategory(name: string): name is AclCategory {
  return (ACL_CATEGORIES as readonly string[]).includes(name);
}

export class Acl {
  private readonly users = new Map<string, AclUser>();
  readonly defaultUser: AclUser;

  constructor(config: Pick<ProxyConfig, 'requirePass' | 'users'>, private readonly commands: CommandTable) {
    config.users.forEach((u, i) => {
      if (this.users.has(u.name)) throw new ConfigError(`users[${i}].name`, 'config', `duplicate user ${JSON.stringify(u.name)}`);
      this.users.set(u.name, this.buildUser(u, i));
    });
    const configured = this.users.get('default');
    if (configured !== undefined && config.requirePass !== '') {
      throw new ConfigError('requirePass', 'config', 'set the default user\'s password in users (the default entry), not both');
    }
    this.defaultUser = configured ?? this.buildUser({
      name: 'default', enabled: true, nopass: config.requirePass === '',
      passwords: config.requirePass === '' ? [] : [config.requirePass], commands: ['+@all'], tables: ['*'],
    }, -1);
    this.users.set('default', this.defaultUser);
  }

  user(name: string): AclUser | undefined {
    return this.users.get(name);
  }

  allUsers(): AclUser[] {
    return [...this.users.values()];
  }

  /** Whether a fresh connection is authenticated as `default` without AUTH. */
  get defaultAuthenticated(): boolean {
    return this.defaultUser.nopass && this.defaultUser.enabled;
  }

  /** Redis' authRequired: the default user needs a password and this client has not authenticated. */
  authRequired(client: { readonly authenticated: boolean }): boolean {
    return !this.defaultAuthenticated && !client.authenticated;
  }

  /** Redis' ACLAuthenticateUser: the user, or null for WRONGPASS (unknown, disabled or wrong password). */
  authenticate(name: Uint8Array, password: Uint8Array): AclUser | null {
    if (name.length > USER_NAME_BYTES_MAX) return null;
    const user = this.users.get(Buffer.from(name).toString('utf8'));
    if (user === undefined || !user.enabled) return null;
    if (user.nopass) return user;
    const digest = sha256(password);
    let ok = false;
    for (const h of user.passwordHashes) ok = timingSafeEqual(h, digest) || ok;
    return ok ? user : null;
  }

  canRun(user: AclUser, spec: CommandSpec): boolean {
    return user.allowed.has(spec.fullName);
  }

  canAccessTable(user: AclUser, table: string): boolean {
    return user.tablePatterns.some((p) => globMatch(p, table));
  }

  private buildUser(u: ProxyUserConfig, index: number): AclUser {
    const at = index < 0 ? 'requirePass' : `users[${index}]`;
    const passwordHashes = u.passwords.map((p) => (HASH_RE.test(p) ? Buffer.from(p.slice(1), 'hex') : sha256(p)));
    const allowed = new Set<string>();
    u.commands.forEach((rule, i) => {
      const problem = this.applyRule(allowed, rule);
      if (problem !== null) throw new ConfigError(`${at}.commands[${i}]`, 'config', problem);
    });
    return { name: u.name, enabled: u.enabled, nopass: u.nopass, passwordHashes, allowed, tablePatterns: [...u.tables] };
  }

  /** Applies one command rule to `allowed`; returns what is wrong with it, or null. */
  private applyRule(allowed: Set<string>, rule: string): string | null {
    const all = this.commands.allWithSubcommands();
    const lower = rule.toLowerCase();
    if (lower === 'allcommands') return this.applyRule(allowed, '+@all');
    if (lower === 'nocommands') return this.applyRule(allowed, '-@all');
    const sign = lower[0];
    if (sign !== '+' && sign !== '-') return `must start with + or - (or be allcommands / nocommands), got ${JSON.stringify(rule)}`;
    const add = sign === '+';
    const body = lower.slice(1);
    const apply = (spec: CommandSpec): void => {
      if (add) allowed.add(spec.fullName);
      else allowed.delete(spec.fullName);
    };
    if (body.startsWith('@')) {
      const cat = body.slice(1);
      if (cat !== 'all' && !isCategory(cat)) return `unknown command category ${JSON.stringify(cat)}`;
      for (const spec of all) if (cat === 'all' || spec.categories.includes(cat as AclCategory)) apply(spec);
      return null;
    }
    const spec = this.commands.getFull(body);
    if (spec === undefined) return `unknown command ${JSON.stringify(body)}`;
    apply(spec);
    for (const sub of spec.subcommands.values()) apply(sub);
    return null;
  }
}
