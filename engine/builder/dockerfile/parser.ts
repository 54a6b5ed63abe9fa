/**
 * Dockerfile syntax (BuildKit's frontend/dockerfile/parser, read and
 * rewritten): parser directives at the top (`syntax`, `escape`, `check`, once
 * each), comments, line continuations with the escape token (comment and
 * empty lines inside a continuation dropped, the latter with a warning),
 * per-instruction argument forms (JSON exec form, key=value lists, words),
 * ONBUILD sub-instructions and heredocs (`<<EOF`, `<<-EOF`, quoted names
 * that turn expansion off) for RUN, COPY and ADD.
 *
 * The result is a flat list of nodes; dockerfile/instructions.ts turns them
 * into typed instructions.
 */
import { ShellLex, emptyEnv, isGoSpace } from '../shell-lex.js';
import { goQuote } from '../go-format.js';

export interface Heredoc {
  name: string;
  fileDescriptor: number;
  /** Variables in the body are expanded (the name was not quoted). */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body. */
  chomp: boolean;
  content: string;
}

export interface Node {
  /** The instruction keyword as written (RUN, run, ...). */
  value: string;
  /** The instruction's text: continuation lines joined, comments dropped. */
  original: string;
  /** `--x=y` flags before the arguments. */
  flags: string[];
  /**
   * Arguments as BuildKit's nodeArgs gives them: words, JSON items, key/value/delimiter
   * triples for ENV and LABEL; for ONBUILD the sub-instruction's keyword and arguments.
   */
  args: string[];
  /** The arguments used the JSON (exec) form. */
  json: boolean;
  /** ONBUILD's sub-instruction. */
  sub?: Node;
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
  /** Comment lines right above the instruction. */
  comments: string[];
}

export interface ParseResult {
  nodes: Node[];
  escapeToken: string;
  /** Printed before the build, as dockerd does. */
  warnings: string[];
  directives: Record<string, string>;
}

export class DockerfileSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** A line longer than this (bufio.Scanner's limit) is refused, as BuildKit does. */
const MAX_LINE = 64 * 1024 - 1;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);
const reWhitespace = /[\t\v\f\r ]+/;
const reHeredoc = /^(\d*)<<(-?)\s*([^<]*)$/s;

function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s.codePointAt(i)!)) i += s.codePointAt(i)! > 0xffff ? 2 : 1;
  return s.slice(i);
}

function trimSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isGoSpace(s.charCodeAt(end - 1))) end--;
  return trimLeftSpace(s.slice(0, end));
}

const isComment = (line: string) => trimLeftSpace(line).startsWith('#');
const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');

class Directives {
  escapeToken = '\\';
  private continuation = continuationRegex('\\');
  private done = false;
  private readonly seen = new Set<string>();
  readonly values: Record<string, string> = {};

  /** BuildKit's DirectiveParser.ParseLine: true when the line is a directive. */
  possible(line: string): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/s.exec(trimLeftSpace(line.slice(1)));
    if (!m) {
      this.done = true;
      return false;
    }
    const key = m[1]!.toLowerCase();
    if (!VALID_DIRECTIVES.has(key)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    this.values[key] = m[2]!;
    if (key === 'escape') {
      const v = m[2]!;
      if (v !== '`' && v !== '\\') throw new Error(`invalid escape token '${v}' does not match \` or \\`);
      this.escapeToken = v;
      this.continuation = continuationRegex(v);
    }
    return true;
  }

  /** Strips a trailing continuation token; false when the line continues. */
  trimContinuation(line: string): [string, boolean] {
    if (this.continuation.test(line)) return [line.replace(this.continuation, '$1'), false];
    return [line, true];
  }
}

function continuationRegex(token: string): RegExp {
  const e = token === '\\' ? '\\\\' : '`';
  // The token ends the line unless it is itself escaped (a token alone on a line also continues).
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`, 's');
}

/** Splits a line into words, keeping quotes (removed later, at expansion). */
export function parseWords(rest: string, escapeToken: string): string[] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let buf = '';
  const chars = Array.from(rest);
  for (let pos = 0; pos <= chars.length; pos++) {
    const ch = pos < chars.length ? chars[pos]! : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isGoSpace(ch.codePointAt(0)!)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || buf.length > 0) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch.codePointAt(0)!)) {
        phase = 'spaces';
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      let c = ch;
      if (c === "'" || c === '"') {
        quote = c;
        blankOK = true;
        phase = 'quote';
      }
      if (c === escapeToken) {
        if (pos + 1 === chars.length) continue;
        buf += c;
        c = chars[++pos]!;
      }
      buf += c;
      continue;
    }
    // in a quote
    let c = ch;
    if (c === quote) phase = 'word';
    if (c === escapeToken && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      buf += c;
      c = chars[++pos]!;
    }
    buf += c;
  }
  return words;
}

/** Splits the leading `--flag[=value]` words off an instruction's arguments. */
function extractFlags(line: string, escapeToken: string): [string, string[]] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let buf = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos]! : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isGoSpace(ch.charCodeAt(0))) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return [line.slice(pos), words];
      phase = 'word';
    }
    if (pos === line.length) {
      if (buf !== '--' && (blankOK || buf.length > 0)) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch.charCodeAt(0))) {
        phase = 'spaces';
        if (buf === '--') return [line.slice(pos), words];
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      let c = ch;
      if (c === escapeToken) {
        if (pos + 1 === line.length) continue;
        c = line[++pos]!;
      }
      buf += c;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    let c = ch;
    if (c === escapeToken) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      c = line[++pos]!;
    }
    buf += c;
  }
  return ['', words];
}

interface LineParse {
  args: string[];
  json: boolean;
  sub?: Node;
}

class NotStringArrayError extends Error {
  constructor() {
    super('when using JSON array syntax, arrays must be comprised of strings only');
  }
}

/** The JSON exec form, or undefined when rest is not a JSON array. */
function parseJsonArgs(rest: string): string[] | undefined {
  const t = trimLeftSpace(rest);
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new NotStringArrayError();
  return v as string[];
}

function splitWhitespace(rest: string): string[] {
  return rest === '' ? [] : rest.split(new RegExp(reWhitespace.source, 'g'));
}

function parseMaybeJson(rest: string): LineParse {
  if (rest === '') return { args: [], json: false };
  const json = parseJsonArgs(rest);
  if (json) return { args: json, json: true };
  return { args: [rest], json: false };
}

function parseMaybeJsonToList(rest: string): LineParse {
  const json = parseJsonArgs(rest);
  if (json) return { args: json, json: true };
  return { args: splitWhitespace(rest), json: false };
}

/** ENV and LABEL: `k=v k2="v 2"` or the legacy `k value words`. Triples of key, value, delimiter. */
function parseNameVal(rest: string, key: string, escapeToken: string): string[] {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    const m = reWhitespace.exec(rest);
    if (!m) throw new Error(`${key} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    out.push(w.slice(0, eq), w.slice(eq + 1), '=');
  }
  return out;
}

function parseHealthConfig(rest: string): LineParse {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < rest.length && isGoSpace(rest.charCodeAt(next))) next++;
  if (sep === 0) return { args: [], json: false };
  const cmd = parseMaybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

function parseLine(cmd: string, rest: string, d: Directives): LineParse {
  switch (cmd) {
    case 'add':
    case 'copy':
    case 'volume':
      return parseMaybeJsonToList(rest);
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      return parseMaybeJson(rest);
    case 'arg':
      return { args: parseWords(rest, d.escapeToken), json: false };
    case 'env':
      return { args: parseNameVal(rest, 'ENV', d.escapeToken), json: false };
    case 'label':
      return { args: parseNameVal(rest, 'LABEL', d.escapeToken), json: false };
    case 'expose':
    case 'from':
      return { args: splitWhitespace(rest), json: false };
    case 'healthcheck':
      return parseHealthConfig(rest);
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'onbuild': {
      if (rest === '') return { args: [], json: false };
      const sub = nodeFromLine(rest, d, []);
      return { args: [sub.value, ...sub.args], json: false, sub };
    }
    default:
      // Unknown instructions parse; instructions.ts refuses them with their line number.
      return { args: [], json: false };
  }
}

function nodeFromLine(line: string, d: Directives, comments: string[]): Node {
  const trimmed = trimSpace(line);
  const m = reWhitespace.exec(trimmed);
  const cmd = m ? trimmed.slice(0, m.index) : trimmed;
  let rest = '';
  let flags: string[] = [];
  if (m) [rest, flags] = extractFlags(trimmed.slice(m.index + m[0].length), d.escapeToken);
  rest = trimSpace(rest);
  const parsed = parseLine(cmd.toLowerCase(), rest, d);
  const node: Node = { value: cmd, original: line, flags, args: parsed.args, json: parsed.json, heredocs: [], startLine: 0, endLine: 0, comments };
  if (parsed.sub) node.sub = parsed.sub;
  return node;
}

function canContainHeredoc(node: Node): boolean {
  const target = node.value.toLowerCase() === 'onbuild' && node.sub ? node.sub : node;
  return HEREDOC_INSTRUCTIONS.has(target.value.toLowerCase()) && !target.json;
}

/** A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`), or undefined when the word is not one. */
export function parseHeredoc(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = reHeredoc.exec(word);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest === '') return undefined;
  const plain = new ShellLex('\\', { skipUnsetEnv: true }).processWords(rest, emptyEnv);
  if (plain.length !== 1) return undefined;
  const raw = new ShellLex('\\', { skipUnsetEnv: true, rawQuotes: true }).processWords(rest, emptyEnv);
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name: plain[0]!, fileDescriptor: Number(m[1] || '0'), chomp: m[2] === '-', expand: quotes(plain[0]!) === quotes(raw[0] ?? '') };
}

function heredocsFromLine(line: string): Array<Omit<Heredoc, 'content'>> {
  const lex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  let words: string[];
  try {
    words = lex.processWords(line, emptyEnv);
  } catch {
    words = [];
  }
  const out: Array<Omit<Heredoc, 'content'>> = [];
  for (const w of words) {
    const h = parseHeredoc(w);
    if (h) out.push(h);
  }
  return out;
}

/** `<<-` bodies lose their leading tabs. */
export function chompHeredocContent(s: string): string {
  return s.replace(/^\t+/gm, '');
}

/** Splits text into lines that keep their line endings. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      if (start < text.length) out.push(text.slice(start));
      return out;
    }
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
}

export function parseDockerfile(input: string | Buffer): ParseResult {
  let text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const lines = splitLines(text);
  const d = new Directives();
  const nodes: Node[] = [];
  const warnings: string[] = [];
  let comments: string[] = [];
  let currentLine = 0;
  let i = 0;
  const fail = (msg: string, line: number): never => {
    throw new DockerfileSyntaxError(msg, line);
  };
  const checkLength = (raw: string, line: number) => {
    if (Buffer.byteLength(trimNewline(raw)) > MAX_LINE) fail(`dockerfile line greater than max allowed size of ${MAX_LINE}`, line);
  };
  const processLine = (raw: string, stripLeft: boolean): [string, boolean] => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    let directive = false;
    try {
      directive = d.possible(token);
    } catch (err) {
      fail((err as Error).message, currentLine);
    }
    return [isComment(token) ? '' : token, directive];
  };

  while (i < lines.length) {
    const raw = lines[i++]!;
    checkLength(raw, currentLine + 1);
    if (isComment(raw)) {
      const c = trimSpace(trimLeftSpace(trimNewline(raw)).slice(1));
      if (c === '') comments = [];
      else comments.push(c);
    }
    const [first, directive] = processLine(raw, true);
    if (directive) comments.pop();
    currentLine++;
    const startLine = currentLine;
    let [line, endOfLine] = d.trimContinuation(first);
    if (endOfLine && line === '') continue;
    let emptyContinuation = false;
    while (!endOfLine && i < lines.length) {
      const next = lines[i++]!;
      checkLength(next, currentLine + 1);
      const [content] = processLine(next, false);
      currentLine++;
      if (isComment(next)) continue;
      if (trimLeftSpace(trimNewline(content)) === '') {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, endOfLine] = d.trimContinuation(content);
      line += part;
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);
    let node: Node;
    try {
      node = nodeFromLine(line, d, comments);
    } catch (err) {
      fail((err as Error).message, startLine);
      throw err;
    }
    if (canContainHeredoc(node) && line.includes('<<')) {
      let docs: Array<Omit<Heredoc, 'content'>>;
      try {
        docs = heredocsFromLine(line);
      } catch (err) {
        fail((err as Error).message, startLine);
        throw err;
      }
      for (const doc of docs) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const body = lines[i++]!;
          currentLine++;
          let candidate = trimNewline(body);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        if (!terminated) fail('unterminated heredoc', startLine);
        node.heredocs.push({ ...doc, content });
      }
    }
    node.startLine = startLine;
    node.endLine = currentLine;
    nodes.push(node);
    comments = [];
  }
  if (warnings.length > 0) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.');
  if (nodes.length === 0) fail('file with no instructions', currentLine);
  return { nodes, escapeToken: d.escapeToken, warnings, directives: d.values };
}
