// Goal: loadConfig merges defaults < file < env < flags with coercion, and every failure is a CONFIG_INVALID naming option, source and reason on one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, configHelp, exitOnConfigError, loadConfig } from './config.js';
import { byteSize, durationMs, hostPort } from './config-schemas.js';
import { isKvError } from './errors.js';

const schema = z.strictObject({
  dataDir: z.string().min(1),
  raftLogSync: z.enum(['always', 'async']).default('always'),
  electionTimeoutMs: z.number().int().positive().default(1000),
  verbose: z.boolean().default(false),
  metaservers: z.array(hostPort()).default(['127.0.0.1:7100']),
  snapshotRateBytesPerSec: byteSize().default(64 * 2 ** 20),
  heartbeatIntervalMs: durationMs().default(100),
  raft: z.strictObject({
    heartbeatTicks: z.number().int().min(1).default(1),
    preVote: z.boolean().default(true),
  }).prefault({}),
});

const dir = mkdtempSync(join(tmpdir(), 'shoal-config-test-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function failure(run: () => unknown): ConfigError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.ok(isKvError(e, 'CONFIG_INVALID'));
    assert.doesNotMatch(e.message, /[\r\n]/);
    return e;
  }
  assert.fail('expected a ConfigError');
}

const base = { env: {}, argv: ['--data-dir', '/tmp/shoal'] };

describe('loadConfig merging', () => {
  it('applies schema defaults, including nested sections', () => {
    const c = loadConfig(schema, base);
    assert.deepEqual(c, {
      dataDir: '/tmp/shoal', raftLogSync: 'always', electionTimeoutMs: 1000, verbose: false,
      metaservers: ['127.0.0.1:7100'], snapshotRateBytesPerSec: 64 * 2 ** 20, heartbeatIntervalMs: 100,
      raft: { heartbeatTicks: 1, preVote: true },
    });
  });

  it('lets the file override defaults, env the file, and flags the env', () => {
    const path = file('order.yaml', 'electionTimeoutMs: 2000\nraftLogSync: async\nraft:\n  heartbeatTicks: 3\n');
    const fromFile = loadConfig(schema, { ...base, file: path });
    assert.equal(fromFile.electionTimeoutMs, 2000);
    assert.equal(fromFile.raftLogSync, 'async');
    assert.deepEqual(fromFile.raft, { heartbeatTicks: 3, preVote: true });

    const env = { SHOAL_ELECTION_TIMEOUT_MS: '3000', SHOAL_RAFT__HEARTBEAT_TICKS: '4' };
    const fromEnv = loadConfig(schema, { ...base, file: path, env });
    assert.equal(fromEnv.electionTimeoutMs, 3000);
    assert.equal(fromEnv.raft.heartbeatTicks, 4);

    const argv = [...base.argv, '--election-timeout-ms', '4000', '--raft.heartbeat-ticks=5'];
    const fromFlags = loadConfig(schema, { file: path, env, argv });
    assert.equal(fromFlags.electionTimeoutMs, 4000);
    assert.equal(fromFlags.raft.heartbeatTicks, 5);
    assert.equal(fromFlags.raftLogSync, 'async');
  });

  it('reads JSON files and finds the file through --config or SHOAL_CONFIG', () => {
    const json = file('c.json', JSON.stringify({ dataDir: '/from/json' }));
    const yaml = file('c.yaml', 'dataDir: /from/yaml\n');
    assert.equal(loadConfig(schema, { env: {}, argv: [], file: json }).dataDir, '/from/json');
    assert.equal(loadConfig(schema, { env: { SHOAL_CONFIG: yaml }, argv: [], file: json }).dataDir, '/from/yaml');
    assert.equal(loadConfig(schema, { env: { SHOAL_CONFIG: yaml }, argv: ['--config', json] }).dataDir, '/from/json');
  });

  it('coerces booleans from flags and env', () => {
    assert.equal(loadConfig(schema, { ...base, argv: [...base.argv, '--verbose'] }).verbose, true);
    assert.equal(loadConfig(schema, { ...base, argv: [...base.argv, '--verbose=false'] }).verbose, false);
    assert.equal(loadConfig(schema, { ...base, argv: [...base.argv, '--no-raft.pre-vote'] }).raft.preVote, false);
    assert.equal(loadConfig(schema, { ...base, env: { SHOAL_VERBOSE: 'yes' } }).verbose, true);
  });

  it('reads lists comma-separated or repeated', () => {
    const a = loadConfig(schema, { ...base, env: { SHOAL_METASERVERS: 'a:1, b:2' } });
    assert.deepEqual(a.metaservers, ['a:1', 'b:2']);
    const b = loadConfig(schema, { ...base, argv: [...base.argv, '--metaservers', 'a:1', '--metaservers=b:2,c:3'] });
    assert.deepEqual(b.metaservers, ['a:1', 'b:2', 'c:3']);
  });

  it('parses sizes and durations from strings', () => {
    const c = loadConfig(schema, { ...base, env: { SHOAL_SNAPSHOT_RATE_BYTES_PER_SEC: '8MiB', SHOAL_HEARTBEAT_INTERVAL_MS: '1s' } });
    assert.equal(c.snapshotRateBytesPerSec, 8 * 2 ** 20);
    assert.equal(c.heartbeatIntervalMs, 1000);
  });

  it('ignores unknown SHOAL_ variables unless asked to reject them', () => {
    assert.equal(loadConfig(schema, { ...base, env: { SHOAL_SEED: '1' } }).dataDir, '/tmp/shoal');
    const e = failure(() => loadConfig(schema, { ...base, env: { SHOAL_SEED: '1' }, unknownEnv: 'reject' }));
    assert.equal(e.source, 'SHOAL_SEED');
  });
});

describe('loadConfig errors', () => {
  it('names option, flag and reason on one line', () => {
    const e = failure(() => loadConfig(schema, { ...base, argv: [...base.argv, '--raft-log-sync', 'sometimes'] }));
    assert.equal(e.message, 'invalid config: raftLogSync (from --raft-log-sync): must be one of "always", "async", got "sometimes"');
    assert.equal(e.details?.option, 'raftLogSync');
  });

  it('names the environment variable and the nested option', () => {
    const e = failure(() => loadConfig(schema, { ...base, env: { SHOAL_RAFT__HEARTBEAT_TICKS: 'many' } }));
    assert.equal(e.option, 'raft.heartbeatTicks');
    assert.equal(e.source, 'SHOAL_RAFT__HEARTBEAT_TICKS');
  });

  it('names the file for bad and unknown options in it', () => {
    const path = file('bad.yaml', 'electionTimeoutMs: -5\n');
    const bad = failure(() => loadConfig(schema, { ...base, file: path }));
    assert.equal(bad.option, 'electionTimeoutMs');
    assert.equal(bad.source, path);
    const typo = file('typo.yaml', 'raft:\n  heartbeat-ticks: 2\n');
    const unknown = failure(() => loadConfig(schema, { ...base, file: typo }));
    assert.equal(unknown.option, 'raft.heartbeat-ticks');
    assert.equal(unknown.source, typo);
  });

  it('points at the list element at fault', () => {
    const e = failure(() => loadConfig(schema, { ...base, argv: [...base.argv, '--metaservers', 'a:1,nope'] }));
    assert.equal(e.option, 'metaservers[1]');
    assert.equal(e.source, '--metaservers');
  });

  it('reports a missing required option as not set', () => {
    const e = failure(() => loadConfig(schema, { env: {}, argv: [] }));
    assert.equal(e.option, 'dataDir');
    assert.equal(e.source, 'not set');
    assert.match(e.message, /^invalid config: dataDir \(not set\): /);
  });

  it('rejects unknown flags, stray arguments, missing values and bad negations', () => {
    assert.equal(failure(() => loadConfig(schema, { ...base, argv: [...base.argv, '--electon-timeout-ms', '5'] })).source, '--electon-timeout-ms');
    assert.equal(failure(() => loadConfig(schema, { ...base, argv: [...base.argv, 'extra'] })).source, 'extra');
    assert.equal(failure(() => loadConfig(schema, { ...base, argv: ['--data-dir'] })).option, 'dataDir');
    assert.equal(failure(() => loadConfig(schema, { ...base, argv: [...base.argv, '--no-election-timeout-ms'] })).option, 'electionTimeoutMs');
  });

  it('reports unreadable and unparsable files against the config option', () => {
    const missing = failure(() => loadConfig(schema, { ...base, argv: [...base.argv, '--config', join(dir, 'absent.yaml')] }));
    assert.equal(missing.option, 'config');
    assert.equal(missing.source, '--config');
    const broken = failure(() => loadConfig(schema, { ...base, file: file('broken.yaml', 'a: [1,\n') }));
    assert.equal(broken.option, 'config');
    const scalar = failure(() => loadConfig(schema, { ...base, file: file('scalar.json', '42') }));
    assert.equal(scalar.option, 'config');
  });
});

describe('exitOnConfigError', () => {
  it('prints the one line and exits with status 2', () => {
    const lines: string[] = [];
    let status: number | undefined;
    const e = new ConfigError('raftLogSync', '--raft-log-sync', 'must be one of "always", "async", got "x"');
    assert.throws(() => exitOnConfigError(e, {
      writeStderr: (line) => lines.push(line),
      exit: (code) => {
        status = code;
        throw new Error('exited');
      },
    }), /exited/);
    assert.deepEqual(lines, [`${e.message}\n`]);
    assert.equal(status, 2);
  });

  it('rethrows anything that is not a ConfigError', () => {
    const other = new Error('boom');
    assert.throws(() => exitOnConfigError(other), (e: unknown) => e === other);
  });

  it('exits a real process with status 2 and one stderr line', () => {
    const entry = new URL('./index.js', import.meta.url).href;
    const code = `import { loadConfig, exitOnConfigError } from ${JSON.stringify(entry)};
      import { z } from 'zod';
      try { loadConfig(z.strictObject({ portNumber: z.number() }), { env: {}, argv: ['--port-number', 'x'] }); }
      catch (e) { exitOnConfigError(e); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: new URL('.', import.meta.url), encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'invalid config: portNumber (from --port-number): must be a number, got "x"\n');
  });
});

describe('configHelp', () => {
  it('lists each option with its flag and environment variable', () => {
    const help = configHelp(schema);
    assert.match(help, /--raft\.heartbeat-ticks <number> +\[SHOAL_RAFT__HEARTBEAT_TICKS\] \(default 1\)/);
    assert.match(help, /--verbose +\[SHOAL_VERBOSE\]/);
  });
});

describe('README example', () => {
  it('loads as documented', () => {
    const example = z.strictObject({
      dataDir: z.string(),
      listen: hostPort().default('127.0.0.1:7200'),
      raftLogSync: z.enum(['always', 'async']).default('always'),
      snapshotRateBytesPerSec: byteSize().prefault('64MiB'),
      raft: z.strictObject({ electionTimeoutMs: durationMs().prefault('1s') }).prefault({}),
    });
    const c = loadConfig(example, { env: { SHOAL_DATA_DIR: '/d' }, argv: [] });
    assert.deepEqual(c, {
      dataDir: '/d', listen: '127.0.0.1:7200', raftLogSync: 'always', snapshotRateBytesPerSec: 64 * 2 ** 20,
      raft: { electionTimeoutMs: 1000 },
    });
    assert.match(configHelp(example), /--snapshot-rate-bytes-per-sec <string> +\[SHOAL_SNAPSHOT_RATE_BYTES_PER_SEC\] \(default "64MiB"\)/);
  });
});
