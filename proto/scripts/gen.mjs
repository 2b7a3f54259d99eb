#!/usr/bin/env node
// Generates static TypeScript codecs and grpc-js service definitions from proto/*.proto.
//
// Usage: node proto/scripts/gen.mjs [--out <dir>] [--proto-dir <dir>]
//          --out        where to write <file>.ts (default: proto/src/gen)
//          --proto-dir  where the .proto files are (default: proto/; tests use fixtures/)
//        npm run gen -w @shoal/proto    (the defaults, from the repo root)
//
// protobufjs is used only to PARSE the .proto files (reflection at generation time);
// the emitted code uses protobufjs/minimal's Reader/Writer plus src/runtime.ts and
// never reflects at run time. The output is deterministic (no timestamps, sorted
// inputs), so src/gen-stale.test.ts can regenerate into a temporary directory and
// compare byte for byte. The type mapping is documented in proto/README.md.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = join(PACKAGE_DIR, 'src', 'gen');

// Names the generated code uses unqualified; a proto definition must not shadow them.
const RESERVED_NAMES = new Set([
  'Array', 'BigInt', 'Boolean', 'Buffer', 'Error', 'Map', 'Number', 'Object', 'Partial',
  'Promise', 'ReadonlyArray', 'ReadonlyMap', 'String', 'Symbol', 'Uint8Array',
]);
// Methods of grpc-js's Client, which generated client stubs must not override.
const CLIENT_METHODS = new Set([
  'close', 'getChannel', 'waitForReady', 'makeUnaryRequest', 'makeClientStreamRequest',
  'makeServerStreamRequest', 'makeBidiStreamRequest', 'constructor',
]);

// ------------------------------------------------------------------------------ type mapping

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/**
 * Per scalar type: TypeScript type, wire type, default literal, a test for "not the
 * default", a writer call (w = writer expression, v = value, f = field name literal)
 * and a reader expression.
 */
const SCALARS = {
  double: { ts: 'number', wire: WIRE_FIXED64, zero: '0', isSet: (v) => `!Object.is(${v}, 0)`,
    write: (w, v) => `${w}.double(${v})`, read: () => 'reader.double()' },
  float: { ts: 'number', wire: WIRE_FIXED32, zero: '0', isSet: (v) => `!Object.is(${v}, 0)`,
    write: (w, v) => `${w}.float(${v})`, read: () => 'reader.float()' },
  int32: { ts: 'number', wire: WIRE_VARINT, zero: '0', isSet: (v) => `${v} !== 0`,
    write: (w, v, f) => `${w}.int32($rt.checkInt32(${v}, ${f}))`, read: () => 'reader.int32()' },
  sint32: { ts: 'number', wire: WIRE_VARINT, zero: '0', isSet: (v) => `${v} !== 0`,
    write: (w, v, f) => `${w}.sint32($rt.checkInt32(${v}, ${f}))`, read: () => 'reader.sint32()' },
  sfixed32: { ts: 'number', wire: WIRE_FIXED32, zero: '0', isSet: (v) => `${v} !== 0`,
    write: (w, v, f) => `${w}.sfixed32($rt.checkInt32(${v}, ${f}))`, read: () => 'reader.sfixed32()' },
  uint32: { ts: 'number', wire: WIRE_VARINT, zero: '0', isSet: (v) => `${v} !== 0`,
    write: (w, v, f) => `${w}.uint32($rt.checkUint32(${v}, ${f}))`, read: () => 'reader.uint32()' },
  fixed32: { ts: 'number', wire: WIRE_FIXED32, zero: '0', isSet: (v) => `${v} !== 0`,
    write: (w, v, f) => `${w}.fixed32($rt.checkUint32(${v}, ${f}))`, read: () => 'reader.fixed32()' },
  int64: { ts: 'number', wire: WIRE_VARINT, zero: '0', isSet: (v) => `${v} !== 0`,
    write: (w, v, f) => `$rt.writeInt64(${w}, ${v}, ${f})`, read: (f) => `$rt.readInt64(reader, ${f})` },
  uint64: { ts: 'number', wire: WIRE_VARINT, zero: '0', isSet: (v) => `${v} !== 0`,
    write: (w, v, f) => `$rt.writeUint64(${w}, ${v}, ${f})`, read: (f) => `$rt.readUint64(reader, ${f})` },
  fixed64: { ts: 'number', wire: WIRE_FIXED64, zero: '0', isSet: (v) => `${v} !== 0`,
    write: (w, v, f) => `$rt.writeFixed64(${w}, ${v}, ${f})`, read: (f) => `$rt.readFixed64(reader, ${f})` },
  sint64: { ts: 'bigint', wire: WIRE_VARINT, zero: '0n', isSet: (v) => `${v} !== 0n`,
    write: (w, v, f) => `$rt.writeSint64(${w}, ${v}, ${f})`, read: () => '$rt.readSint64(reader)' },
  sfixed64: { ts: 'bigint', wire: WIRE_FIXED64, zero: '0n', isSet: (v) => `${v} !== 0n`,
    write: (w, v, f) => `$rt.writeSfixed64(${w}, ${v}, ${f})`, read: () => '$rt.readSfixed64(reader)' },
  bool: { ts: 'boolean', wire: WIRE_VARINT, zero: 'false', isSet: (v) => v,
    write: (w, v) => `${w}.bool(${v})`, read: () => 'reader.bool()' },
  string: { ts: 'string', wire: WIRE_LEN, zero: "''", isSet: (v) => `${v} !== ''`,
    write: (w, v) => `${w}.string(${v})`, read: () => 'reader.string()' },
  bytes: { ts: 'Uint8Array', wire: WIRE_LEN, zero: '$rt.EMPTY_BYTES', isSet: (v) => `${v}.length !== 0`,
    write: (w, v) => `${w}.bytes(${v})`, read: () => '$rt.readBytes(reader)' },
};

function fail(message) {
  throw new Error(`gen.mjs: ${message}`);
}

// ------------------------------------------------------------------------------ model

/** Loads every <protoDir>/*.proto into one resolved Root and checks the package conventions. */
function loadRoot(protoDir) {
  const files = readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort();
  if (files.length === 0) fail(`no .proto files in ${protoDir}`);
  for (const file of files) {
    const text = readFileSync(join(protoDir, file), 'utf8');
    if (!/^\s*syntax\s*=\s*"proto3"\s*;/m.test(text)) fail(`${file}: only proto3 is supported`);
    const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(text)?.[1];
    const expected = `shoal.${basename(file, '.proto')}`;
    if (pkg !== expected) fail(`${file}: package must be ${expected}, found ${pkg ?? 'none'}`);
  }
  const root = new protobuf.Root();
  root.loadSync(files.map((f) => join(protoDir, f)), { alternateCommentMode: true });
  root.resolveAll();
  return { root, files };
}

/** Every Type, Enum and Service, with its TypeScript name and source file, in file order. */
function collect(root) {
  const defs = [];
  const visit = (ns, prefix) => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Service) {
        defs.push({ kind: 'service', obj: child, tsName: prefix + child.name });
      } else if (child instanceof protobuf.Type) {
        defs.push({ kind: 'message', obj: child, tsName: prefix + child.name });
        visit(child, `${prefix}${child.name}_`);
      } else if (child instanceof protobuf.Enum) {
        defs.push({ kind: 'enum', obj: child, tsName: prefix + child.name });
      } else if (child instanceof protobuf.Namespace) {
        visit(child, prefix);
      }
    }
  };
  visit(root, '');
  for (const def of defs) {
    // Definitions protobufjs brings itself (google/protobuf/*) have no file; ref() refuses them.
    def.file = def.obj.filename ? basename(def.obj.filename) : null;
    if (def.file === null) continue;
    def.module = basename(def.file, '.proto');
    if (!/^[A-Z]/.test(def.obj.name)) fail(`${def.obj.fullName}: names must start with an upper-case letter`);
    if (RESERVED_NAMES.has(def.tsName)) fail(`${def.obj.fullName}: '${def.tsName}' would shadow a global`);
  }
  return defs;
}

// ------------------------------------------------------------------------------ emit helpers

function quote(s) {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A JSDoc block for a proto comment, or nothing. */
function doc(comment, indent) {
  if (!comment) return [];
  const lines = comment.replace(/\*\//g, '*\\/').split('\n').map((l) => l.trimEnd());
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`];
}

function lowerFirst(s) {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** UPPER_SNAKE of a PascalCase name: ReadConsistency -> READ_CONSISTENCY. */
function upperSnake(s) {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toUpperCase();
}

/** Emits one .proto file as TypeScript. */
class FileEmitter {
  constructor(module, defs, byFullName) {
    this.module = module;
    this.defs = defs;
    this.byFullName = byFullName;
    this.imports = new Set();
    this.usesGrpc = false;
    this.out = [];
  }

  /** The TypeScript expression naming a message or enum, importing its module if needed. */
  ref(reflected) {
    const def = this.byFullName.get(reflected.fullName);
    if (!def?.generated) fail(`${reflected.fullName}: only types of the generated .proto files can be used (no google.protobuf.*)`);
    if (def.module === this.module) return def.tsName;
    this.imports.add(def.module);
    return `${def.module}.${def.tsName}`;
  }

  /** How a (non-map) field's values are typed, written and read. */
  valueInfo(field) {
    const scalar = SCALARS[field.type];
    if (scalar) return { ...scalar, kind: 'scalar' };
    const rt = field.resolvedType ?? fail(`${field.fullName}: unresolved type ${field.type}`);
    if (rt instanceof protobuf.Enum) {
      const name = this.ref(rt);
      return {
        kind: 'enum', ts: name, wire: WIRE_VARINT, zero: '0', isSet: (v) => `${v} !== 0`,
        write: (w, v) => `${w}.int32(${v})`, read: () => `reader.int32() as ${name}`,
      };
    }
    const name = this.ref(rt);
    return {
      kind: 'message', ts: name, wire: WIRE_LEN, zero: 'undefined', isSet: (v) => `${v} !== undefined`,
      write: (w, v) => `${name}.encode(${v}, ${w}.fork()).ldelim()`,
      read: () => `${name}.decode(reader, reader.uint32(), depth + 1)`,
    };
  }

  mapKeyInfo(field) {
    const key = SCALARS[field.keyType];
    if (!key || field.keyType === 'bytes' || field.keyType === 'double' || field.keyType === 'float') {
      fail(`${field.fullName}: invalid map key type ${field.keyType}`);
    }
    return key;
  }

  emit() {
    for (const def of this.defs) {
      if (def.kind === 'enum') this.emitEnum(def);
      else if (def.kind === 'message') this.emitMessage(def);
      else this.emitService(def);
    }
    const head = [
      `// generated by proto/scripts/gen.mjs — do not edit. Source: proto/${this.module}.proto;`,
      '// regenerate with `npm run gen -w @shoal/proto`.',
    ];
    if (this.usesGrpc) head.push("import * as $grpc from '@grpc/grpc-js';");
    head.push("import * as $rt from '../runtime.js';");
    for (const m of [...this.imports].sort()) head.push(`import * as ${m} from './${m}.js';`);
    return `${[...head, ...this.out].join('\n')}\n`;
  }

  // ---------------------------------------------------------------- enums

  emitEnum(def) {
    const e = def.obj;
    const entries = Object.entries(e.values);
    if (!entries.some(([, n]) => n === 0)) fail(`${e.fullName}: proto3 enums need a value 0`);
    const prefix = `${upperSnake(e.name)}_`;
    const strip = entries.every(([k]) => k.startsWith(prefix) && /^[A-Za-z_]/.test(k.slice(prefix.length)));
    this.out.push('', ...doc(e.comment, ''), `export const ${def.tsName} = {`);
    for (const [key, num] of entries) {
      this.out.push(...doc(e.comments[key], '  '), `  ${strip ? key.slice(prefix.length) : key}: ${num},`);
    }
    this.out.push('} as const;', `export type ${def.tsName} = (typeof ${def.tsName})[keyof typeof ${def.tsName}];`);
  }

  // ---------------------------------------------------------------- messages

  /** Fields and oneofs of a message, as "members" in declaration order. */
  members(type) {
    const members = [];
    const seenOneofs = new Set();
    for (const field of type.fieldsArray) {
      if (field.rule === 'required' || field.extend || field.options?.default !== undefined) {
        fail(`${field.fullName}: required fields, extensions and defaults are proto2-only`);
      }
      if (field.name === '__proto__' || field.name === '$case') fail(`${field.fullName}: reserved field name`);
      const oneof = field.partOf;
      if (oneof && !field.options?.proto3_optional) {
        if (!seenOneofs.has(oneof)) {
          seenOneofs.add(oneof);
          members.push({ kind: 'oneof', name: oneof.name, oneof, comment: oneof.comment });
        }
        continue;
      }
      if (field.map) members.push({ kind: 'map', name: field.name, field });
      else if (field.repeated) members.push({ kind: 'repeated', name: field.name, field });
      else if (oneof) members.push({ kind: 'optional', name: field.name, field });
      else members.push({ kind: 'single', name: field.name, field });
    }
    if (type.extensions?.length || type.group) fail(`${type.fullName}: extensions and groups are unsupported`);
    return members;
  }

  /** The interface property type of a member. */
  memberType(m) {
    if (m.kind === 'oneof') {
      const cases = m.oneof.fieldsArray.map((f) => `    | { readonly $case: '${f.name}'; readonly ${f.name}: ${this.valueInfo(f).ts} }`);
      return `\n${cases.join('\n')}\n    | undefined`;
    }
    if (m.kind === 'map') {
      const key = this.mapKeyInfo(m.field);
      return `ReadonlyMap<${key.ts}, ${this.valueInfo(m.field).ts}>`;
    }
    const v = this.valueInfo(m.field);
    if (m.kind === 'repeated') return `readonly ${v.ts}[]`;
    if (m.kind === 'optional' || v.kind === 'message') return `${v.ts} | undefined`;
    return v.ts;
  }

  emitMessage(def) {
    const type = def.obj;
    const members = this.members(type);
    const name = def.tsName;
    const typeName = type.fullName.slice(1);
    this.out.push('', ...doc(type.comment, ''), `export interface ${name} {`);
    for (const m of members) {
      const optional = m.kind === 'oneof' || m.kind === 'optional' || (m.kind === 'single' && this.valueInfo(m.field).kind === 'message');
      this.out.push(...doc(m.comment ?? m.field?.comment, '  '), `  readonly ${m.name}${optional ? '?' : ''}:${this.memberType(m).startsWith('\n') ? '' : ' '}${this.memberType(m)};`);
    }
    this.out.push('}', '', ...doc(type.comment, ''), `export const ${name}: $rt.MessageCodec<${name}> = {`);
    this.out.push(`  typeName: ${quote(typeName)},`, '');
    this.emitEncode(name, type, members);
    this.emitDecode(name, typeName, members);
    this.emitCreate(name, members);
    this.out.push('};');
  }

  emitEncode(name, type, members) {
    const o = this.out;
    o.push(`  encode(message: ${name}, writer: $rt.Writer = $rt.Writer.create()): $rt.Writer {`);
    // Canonical order: by field number.
    const byNumber = [...type.fieldsArray].sort((a, b) => a.id - b.id);
    const doneOneofs = new Set();
    for (const field of byNumber) {
      const m = members.find((x) => x.field === field || (x.kind === 'oneof' && x.oneof === field.partOf));
      if (m.kind === 'oneof') {
        if (doneOneofs.has(m.oneof)) continue;
        doneOneofs.add(m.oneof);
        this.emitEncodeOneof(m);
        continue;
      }
      const f = quote(`${type.fullName.slice(1)}.${field.name}`);
      const v = `message.${field.name}`;
      if (m.kind === 'map') this.emitEncodeMap(field, f);
      else if (m.kind === 'repeated') this.emitEncodeRepeated(field, f);
      else {
        const info = this.valueInfo(field);
        const tag = (field.id << 3) | info.wire;
        const cond = m.kind === 'optional' ? `${v} !== undefined` : info.isSet(v);
        o.push(`    if (${cond}) ${info.write(`writer.uint32(${tag})`, v, f)};`);
      }
    }
    o.push('    return writer;', '  },', '');
  }

  emitEncodeOneof(m) {
    const o = this.out;
    const local = `_${m.name}`;
    o.push(`    const ${local} = message.${m.name};`, `    if (${local} !== undefined) {`, `      switch (${local}.$case) {`);
    for (const field of m.oneof.fieldsArray) {
      const info = this.valueInfo(field);
      const f = quote(`${field.parent.fullName.slice(1)}.${field.name}`);
      const tag = (field.id << 3) | info.wire;
      o.push(`        case '${field.name}':`, `          ${info.write(`writer.uint32(${tag})`, `${local}.${field.name}`, f)};`, '          break;');
    }
    o.push('      }', '    }');
  }

  emitEncodeRepeated(field, f) {
    const o = this.out;
    const info = this.valueInfo(field);
    const v = `message.${field.name}`;
    if (field.packed && info.wire !== WIRE_LEN) {
      o.push(`    if (${v}.length !== 0) {`, `      writer.uint32(${(field.id << 3) | WIRE_LEN}).fork();`);
      o.push(`      for (const value of ${v}) ${info.write('writer', 'value', f)};`, '      writer.ldelim();', '    }');
    } else {
      o.push(`    for (const value of ${v}) ${info.write(`writer.uint32(${(field.id << 3) | info.wire})`, 'value', f)};`);
    }
  }

  emitEncodeMap(field, f) {
    const key = this.mapKeyInfo(field);
    const value = this.valueInfo(field);
    this.out.push(
      `    for (const [key, value] of message.${field.name}) {`,
      `      writer.uint32(${(field.id << 3) | WIRE_LEN}).fork();`,
      `      ${key.write(`writer.uint32(${(1 << 3) | key.wire})`, 'key', f)};`,
      `      ${value.write(`writer.uint32(${(2 << 3) | value.wire})`, 'value', f)};`,
      '      writer.ldelim();',
      '    }',
    );
  }

  emitDecode(name, typeName, members) {
    const o = this.out;
    o.push(`  decode(input: $rt.Reader | Uint8Array, length?: number, depth = 0): ${name} {`);
    o.push(`    const reader = $rt.beginDecode(input, length, depth, ${quote(typeName)});`);
    o.push('    const end = length === undefined ? reader.len : reader.pos + length;');
    for (const m of members) o.push(`    ${this.decodeLocal(name, m)}`);
    o.push('    while (reader.pos < end) {', '      const tag = reader.uint32();', '      switch (tag >>> 3) {');
    for (const m of members) {
      const fields = m.kind === 'oneof' ? m.oneof.fieldsArray : [m.field];
      for (const field of fields) this.emitDecodeCase(m, field, `${typeName}.${field.name}`);
    }
    o.push('        default:', '          $rt.skipField(reader, tag);', '      }', '    }');
    o.push(`    $rt.endDecode(reader, end, ${quote(typeName)});`);
    o.push(`    return { ${members.map((m) => `${m.name}: _${m.name}`).join(', ')} };`, '  },', '');
  }

  /** The declaration of the local variable a member is decoded into. */
  decodeLocal(name, m) {
    const local = `_${m.name}`;
    if (m.kind === 'oneof') return `let ${local}: ${name}[${quote(m.name)}] = undefined;`;
    if (m.kind === 'map') {
      return `const ${local} = new Map<${this.mapKeyInfo(m.field).ts}, ${this.valueInfo(m.field).ts}>();`;
    }
    const info = this.valueInfo(m.field);
    if (m.kind === 'repeated') return `const ${local}: ${info.ts}[] = [];`;
    if (m.kind === 'optional' || info.kind === 'message') return `let ${local}: ${info.ts} | undefined = undefined;`;
    return `let ${local}: ${info.ts} = ${info.zero};`;
  }

  emitDecodeCase(m, field, fieldName) {
    const o = this.out;
    const f = quote(fieldName);
    const local = `_${m.name}`;
    o.push(`        case ${field.id}: {`);
    if (m.kind === 'map') {
      this.emitDecodeMapEntry(field, f, local);
    } else {
      const info = this.valueInfo(field);
      const read = info.read(f);
      if (m.kind === 'repeated' && info.wire !== WIRE_LEN) {
        // Packed and unpacked encodings are both accepted, whatever the declaration says.
        o.push('          if ((tag & 7) === 2) {', '            const packedEnd = reader.uint32() + reader.pos;');
        o.push(`            while (reader.pos < packedEnd) ${local}.push(${read});`, `            $rt.endDecode(reader, packedEnd, ${f});`);
        o.push('          } else {', `            $rt.expectWireType(tag, ${info.wire}, ${f});`, `            ${local}.push(${read});`, '          }');
      } else {
        o.push(`          $rt.expectWireType(tag, ${info.wire}, ${f});`);
        if (m.kind === 'repeated') o.push(`          ${local}.push(${read});`);
        else if (m.kind === 'oneof') o.push(`          ${local} = { $case: '${field.name}', ${field.name}: ${read} };`);
        else o.push(`          ${local} = ${read};`);
      }
    }
    o.push('          break;', '        }');
  }

  emitDecodeMapEntry(field, f, local) {
    const key = this.mapKeyInfo(field);
    const value = this.valueInfo(field);
    const valueDecl = value.kind === 'message' ? `${value.ts} | undefined` : value.ts;
    const valueOut = value.kind === 'message' ? `value ?? ${value.ts}.create()` : 'value';
    this.out.push(
      `          $rt.expectWireType(tag, 2, ${f});`,
      '          const entryEnd = reader.uint32() + reader.pos;',
      `          let key: ${key.ts} = ${key.zero};`,
      `          let value: ${valueDecl} = ${value.zero};`,
      '          while (reader.pos < entryEnd) {',
      '            const entryTag = reader.uint32();',
      '            if (entryTag >>> 3 === 1) {',
      `              $rt.expectWireType(entryTag, ${key.wire}, ${f});`,
      `              key = ${key.read(f)};`,
      '            } else if (entryTag >>> 3 === 2) {',
      `              $rt.expectWireType(entryTag, ${value.wire}, ${f});`,
      `              value = ${value.read(f)};`,
      '            } else {',
      '              $rt.skipField(reader, entryTag);',
      '            }',
      '          }',
      `          $rt.endDecode(reader, entryEnd, ${f});`,
      `          ${local}.set(key, ${valueOut});`,
    );
  }

  emitCreate(name, members) {
    const o = this.out;
    if (members.length === 0) {
      o.push(`  create(_partial: Partial<${name}> = {}): ${name} {`, '    return {};', '  },');
      return;
    }
    o.push(`  create(partial: Partial<${name}> = {}): ${name} {`, '    return {');
    for (const m of members) {
      let value = `partial.${m.name}`;
      if (m.kind === 'map') value += ' ?? new Map()';
      else if (m.kind === 'repeated') value += ' ?? []';
      else if (m.kind === 'single') {
        const info = this.valueInfo(m.field);
        if (info.kind !== 'message') value += ` ?? ${info.zero}`;
      }
      o.push(`      ${m.name}: ${value},`);
    }
    o.push('    };', '  },');
  }

  // ---------------------------------------------------------------- services

  emitService(def) {
    const svc = def.obj;
    const o = this.out;
    const fullName = svc.fullName.slice(1);
    this.usesGrpc = true;
    const methods = svc.methodsArray.map((m) => ({
      m,
      key: lowerFirst(m.name),
      req: this.ref(m.resolvedRequestType),
      res: this.ref(m.resolvedResponseType),
    }));
    for (const { m, key } of methods) {
      if (CLIENT_METHODS.has(key)) fail(`${m.fullName}: '${key}' clashes with a grpc-js Client method`);
    }
    const names = [`${def.tsName}Service`, `${def.tsName}Server`, `${def.tsName}Client`];
    for (const n of names) {
      if (this.defs.some((d) => d.tsName === n)) fail(`${svc.fullName}: generated name ${n} is taken`);
    }
    o.push('', ...doc(svc.comment, ''), `export const ${def.tsName}Service = {`);
    for (const { m, key, req, res } of methods) {
      o.push(...doc(m.comment, '  '), `  ${key}: $rt.grpcMethod(${quote(`/${fullName}/${m.name}`)}, ${quote(m.name)}, ` +
        `${Boolean(m.requestStream)}, ${Boolean(m.responseStream)}, ${req}, ${res}),`);
    }
    o.push('};', '', `/** What a server of ${fullName} implements; pass it to Server.addService with ${def.tsName}Service. */`);
    o.push(`export interface ${def.tsName}Server extends $grpc.UntypedServiceImplementation {`);
    for (const { m, key, req, res } of methods) {
      const handler = m.requestStream
        ? (m.responseStream ? 'handleBidiStreamingCall' : 'handleClientStreamingCall')
        : (m.responseStream ? 'handleServerStreamingCall' : 'handleUnaryCall');
      o.push(...doc(m.comment, '  '), `  ${key}: $grpc.${handler}<${req}, ${res}>;`);
    }
    o.push('}', '', `/** A typed client of ${fullName}. */`, `export interface ${def.tsName}Client extends $grpc.Client {`);
    for (const method of methods) this.emitClientMethod(method);
    o.push('}', '');
    o.push(`export const ${def.tsName}Client = $grpc.makeGenericClientConstructor(${def.tsName}Service, ${quote(fullName)}) as unknown as {`);
    o.push(`  new (address: string, credentials: $grpc.ChannelCredentials, options?: Partial<$grpc.ClientOptions>): ${def.tsName}Client;`);
    o.push(`  readonly service: typeof ${def.tsName}Service;`, '  readonly serviceName: string;', '};');
  }

  emitClientMethod({ m, key, req, res }) {
    const o = this.out;
    const cb = `callback: (error: $grpc.ServiceError | null, response: ${res}) => void`;
    const md = 'metadata: $grpc.Metadata';
    const opts = 'options: Partial<$grpc.CallOptions>';
    let overloads;
    if (!m.requestStream && !m.responseStream) {
      const r = '$grpc.ClientUnaryCall';
      overloads = [`request: ${req}, ${cb}`, `request: ${req}, ${md}, ${cb}`, `request: ${req}, ${md}, ${opts}, ${cb}`].map((a) => [a, r]);
    } else if (!m.requestStream) {
      const r = `$grpc.ClientReadableStream<${res}>`;
      overloads = [`request: ${req}, options?: Partial<$grpc.CallOptions>`,
        `request: ${req}, metadata?: $grpc.Metadata, options?: Partial<$grpc.CallOptions>`].map((a) => [a, r]);
    } else if (!m.responseStream) {
      const r = `$grpc.ClientWritableStream<${req}>`;
      overloads = [cb, `${md}, ${cb}`, `${opts}, ${cb}`, `${md}, ${opts}, ${cb}`].map((a) => [a, r]);
    } else {
      const r = `$grpc.ClientDuplexStream<${req}, ${res}>`;
      overloads = ['', opts, `${md}, options?: Partial<$grpc.CallOptions>`].map((a) => [a, r]);
    }
    o.push(...doc(m.comment, '  '));
    for (const [args, ret] of overloads) o.push(`  ${key}(${args}): ${ret};`);
  }
}

// ------------------------------------------------------------------------------ main

function generate(protoDir) {
  const { root, files } = loadRoot(protoDir);
  const defs = collect(root);
  for (const def of defs) def.generated = files.includes(def.file);
  const byFullName = new Map(defs.filter((d) => d.kind !== 'service').map((d) => [d.obj.fullName, d]));
  const outputs = new Map();
  for (const file of files) {
    const module = basename(file, '.proto');
    if (!/^[a-z][a-z0-9_]*$/.test(module)) fail(`${file}: file names must be lower-case identifiers`);
    const fileDefs = defs.filter((d) => d.file === file);
    const seen = new Set();
    for (const d of fileDefs) {
      if (seen.has(d.tsName)) fail(`${file}: two definitions map to the TypeScript name ${d.tsName}`);
      seen.add(d.tsName);
    }
    outputs.set(`${module}.ts`, new FileEmitter(module, fileDefs, byFullName).emit());
  }
  return outputs;
}

/** The value of `--name <value>`, or the fallback. */
function option(argv, name, fallback) {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  return resolve(argv[i + 1] ?? fail(`${name} needs a directory`));
}

function main(argv) {
  const known = new Set(['--out', '--proto-dir']);
  for (let i = 0; i < argv.length; i += 2) if (!known.has(argv[i])) fail(`unknown argument ${argv[i]}`);
  const outDir = option(argv, '--out', DEFAULT_OUT);
  const outputs = generate(option(argv, '--proto-dir', PACKAGE_DIR));
  mkdirSync(outDir, { recursive: true });
  for (const existing of readdirSync(outDir)) {
    if (existing.endsWith('.ts') && !outputs.has(existing)) rmSync(join(outDir, existing));
  }
  for (const [name, text] of outputs) writeFileSync(join(outDir, name), text);
  console.log(`gen.mjs: wrote ${[...outputs.keys()].join(', ')} to ${outDir}`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
