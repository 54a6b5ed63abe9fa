import { describe, expect, it } from 'vitest';
import { parseDockerfile, parseWords } from './parser.js';
import { parseStages, parseCommand, type Command } from './instructions.js';

const parse = (text: string) => parseDockerfile(text);
const stages = (text: string) => parseStages(parseDockerfile(text).nodes);
const only = (text: string): Command => stages(`FROM x\n${text}`).stages[0]!.commands[0]!;

describe('Dockerfile parser: lines', () => {
  it('joins continuations, keeps the instruction text for the step line', () => {
    const r = parse('FROM busybox\nRUN echo a \\\n    && echo b\n');
    expect(r.nodes).toHaveLength(2);
    expect(r.nodes[1]!.original).toBe('RUN echo a     && echo b');
    expect(r.nodes[1]!.args).toEqual(['echo a     && echo b']);
    expect(r.nodes[1]!.startLine).toBe(2);
    expect(r.nodes[1]!.endLine).toBe(3);
  });

  it('drops comment lines inside continuations and warns about empty ones', () => {
    const r = parse('FROM x\nRUN a \\\n# comment\n  b \\\n\n  c\n');
    expect(r.nodes[1]!.original).toBe('RUN a   b   c');
    expect(r.warnings).toEqual(['[WARNING]: Empty continuation line found in:\n    RUN a   b   c', '[WARNING]: Empty continuation lines will become errors in a future release.']);
  });

  it('skips comments and blank lines, strips a BOM and CRLF', () => {
    const r = parse('\ufeff# hello\r\n\r\nFROM x\r\n  # indented comment\r\nCMD ["a"]\r\n');
    expect(r.nodes.map((n) => n.value)).toEqual(['FROM', 'CMD']);
    expect(r.nodes[1]!.json).toBe(true);
    expect(r.nodes[1]!.comments).toEqual(['indented comment']);
  });

  it('reads parser directives only at the top, once each', () => {
    expect(parse('# escape=`\nFROM x\nRUN a `\n  b\n').escapeToken).toBe('`');
    expect(parse('# syntax=docker/dockerfile:1\n# escape=`\nFROM x\n').directives).toEqual({ syntax: 'docker/dockerfile:1', escape: '`' });
    // After any other line, a directive is just a comment.
    expect(parse('FROM x\n# escape=`\nRUN a \\\n b\n').escapeToken).toBe('\\');
    expect(parse('# comment\n# escape=`\nFROM x\n').escapeToken).toBe('\\');
    expect(() => parse('# escape=`\n# escape=\\\nFROM x\n')).toThrow('only one escape parser directive can be used');
    expect(() => parse('# escape=x\nFROM x\n')).toThrow("invalid escape token 'x' does not match ` or \\");
  });

  it('with a backtick escape, backslashes are literal and ` continues lines', () => {
    const r = parse('# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo done\n');
    expect(r.nodes[1]!.original).toBe('RUN dir c:\\   && echo done');
  });

  it('refuses an empty file and over-long lines', () => {
    expect(() => parse('# only a comment\n\n')).toThrow('file with no instructions');
    expect(() => parse('FROM x\nRUN ' + 'a'.repeat(70000) + '\n')).toThrow('dockerfile line greater than max allowed size of 65535');
  });

  it('splits flags from arguments', () => {
    const r = parse('FROM x\nCOPY --from=build --chown="a b" src dst\n');
    expect(r.nodes[1]!.flags).toEqual(['--from=build', '--chown=a b']);
    expect(r.nodes[1]!.args).toEqual(['src', 'dst']);
  });

  it('keeps quotes in ENV words for the expansion step', () => {
    expect(parse('FROM x\nENV A="x y" B=z\n').nodes[1]!.args).toEqual(['A', '"x y"', '=', 'B', 'z', '=']);
    expect(parse('FROM x\nENV A x y  z\n').nodes[1]!.args).toEqual(['A', 'x y  z', '']);
    expect(parseWords('a\\ b "c d" \'e\'', '\\')).toEqual(['a\\ b', '"c d"', "'e'"]);
  });
});

describe('Dockerfile parser: heredocs', () => {
  it('reads a RUN heredoc body until its terminator', () => {
    const r = parse('FROM x\nRUN <<EOF\necho hi\necho $HOME\nEOF\nCMD x\n');
    const run = r.nodes[1]!;
    expect(run.args).toEqual(['<<EOF']);
    expect(run.heredocs).toEqual([{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo hi\necho $HOME\n' }]);
    expect(run.endLine).toBe(5);
    expect(r.nodes[2]!.value).toBe('CMD');
  });

  it('supports <<- (tab stripping), quoted names and several heredocs', () => {
    const r = parse('FROM x\nCOPY <<-"A" <<B /dst/\n\tone\n\tA\ntwo\nB\n');
    const c = parseCommand(r.nodes[1]!);
    expect(c.kind).toBe('copy');
    if (c.kind !== 'copy') return;
    expect(c.sourceContents).toEqual([
      { path: 'A', data: 'one\n', expand: false },
      { path: 'B', data: 'two\n', expand: true },
    ]);
    expect(c.dest).toBe('/dst/');
  });

  it('leaves heredocs alone in exec form and in other instructions', () => {
    expect(parse('FROM x\nRUN ["sh", "-c", "cat <<EOF"]\n').nodes[1]!.heredocs).toEqual([]);
    expect(parse('FROM x\nENV A=<<EOF\n').nodes).toHaveLength(2);
  });

  it('refuses an unterminated heredoc', () => {
    expect(() => parse('FROM x\nRUN <<EOF\necho\n')).toThrow('unterminated heredoc');
  });

  it('keeps heredocs of an ONBUILD trigger in its expression', () => {
    const c = only('ONBUILD RUN <<EOF\necho hi\nEOF\n');
    expect(c.kind === 'onbuild' && c.expression).toBe('RUN <<EOF\necho hi\nEOF');
  });
});

describe('instructions', () => {
  it('groups commands into stages with meta ARGs first', () => {
    const p = stages('ARG V=1\nFROM base:$V AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n');
    expect(p.metaArgs.map((a) => a.args)).toEqual([[{ key: 'V', value: '1' }]]);
    expect(p.stages.map((s) => [s.name, s.baseName, s.commands.length])).toEqual([
      ['build', 'base:$V', 1],
      ['', 'scratch', 1],
    ]);
    expect(p.stages[0]!.sourceCode).toBe('FROM base:$V AS Build');
  });

  it('parses shell and exec forms', () => {
    expect(only('RUN echo hi')).toMatchObject({ kind: 'run', cmdLine: ['echo hi'], prependShell: true });
    expect(only('RUN ["echo","hi"]')).toMatchObject({ kind: 'run', cmdLine: ['echo', 'hi'], prependShell: false });
    expect(only('CMD')).toMatchObject({ kind: 'cmd', cmdLine: [] });
    expect(only('ENTRYPOINT []')).toMatchObject({ kind: 'entrypoint', cmdLine: null });
    expect(only('RUN [ "a", "b" ] x')).toMatchObject({ cmdLine: ['[ "a", "b" ] x'], prependShell: true });
  });

  it('parses HEALTHCHECK with its flags', () => {
    expect(only('HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://x/')).toMatchObject({
      kind: 'healthcheck',
      health: { Test: ['CMD-SHELL', 'curl -f http://x/'], Interval: 30e9, Timeout: 0, StartPeriod: 0, Retries: 3 },
    });
    expect(only('HEALTHCHECK CMD ["true"]')).toMatchObject({ health: { Test: ['CMD', 'true'] } });
    expect(only('HEALTHCHECK NONE')).toMatchObject({ health: { Test: ['NONE'] } });
    expect(() => only('HEALTHCHECK --interval=1us CMD x')).toThrow('Interval "interval" cannot be less than 1ms');
    expect(() => only('HEALTHCHECK FOO x')).toThrow('Unknown type "FOO" in HEALTHCHECK (try CMD)');
    expect(() => only('HEALTHCHECK --timeout=3 CMD x')).toThrow('time: missing unit in duration "3"');
    expect(() => only('HEALTHCHECK --retries=-1 CMD x')).toThrow('--retries cannot be negative (-1)');
  });

  it('sorts EXPOSE ports and parses ARG, VOLUME, SHELL, USER', () => {
    expect(only('EXPOSE 8080 443 80/udp')).toMatchObject({ ports: ['443', '80/udp', '8080'] });
    expect(only('ARG A B=2 C=')).toMatchObject({ args: [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '' }] });
    expect(only('VOLUME ["/a", "/b"]')).toMatchObject({ volumes: ['/a', '/b'] });
    expect(only('VOLUME /a /b')).toMatchObject({ volumes: ['/a', '/b'] });
    expect(only('SHELL ["/bin/bash", "-c"]')).toMatchObject({ shell: ['/bin/bash', '-c'] });
    expect(only('USER app:app')).toMatchObject({ user: 'app:app' });
  });

  it('records RUN flags for the dispatcher and refuses unknown ones', () => {
    expect(only('RUN --mount=type=cache,target=/x make')).toMatchObject({ flagsUsed: ['mount'] });
    expect(() => only('RUN --foo make')).toThrow('Unknown flag: foo');
    expect(() => only('COPY --chown a b')).toThrow('Missing a value on flag: chown');
    expect(() => only('COPY --from=a --from=b a b')).toThrow('Duplicate flag specified: from');
    expect(() => only('ADD --link=maybe a b')).toThrow('Expecting boolean value for flag link, not: maybe');
    expect(only('COPY --exclude=*.md --exclude=x --link . /app')).toMatchObject({ exclude: ['*.md', 'x'], link: true });
  });

  it("answers dockerd 20.10's messages for bad input", () => {
    const err = (text: string) => {
      try {
        stages(text);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err('FROM x\nFOO bar\n')).toBe('dockerfile parse error line 2: unknown instruction: FOO');
    expect(err('FROM a b\n')).toBe('dockerfile parse error line 1: FROM requires either one or three arguments');
    expect(err('FROM a AS 1x\n')).toBe('dockerfile parse error line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
    expect(err('RUN x\n')).toBe('no build stage in current context');
    expect(err('FROM x\nCOPY a\n')).toBe('dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
    expect(err('FROM x\nENV\n')).toBe('dockerfile parse error line 2: ENV requires at least one argument');
    expect(err('FROM x\nWORKDIR\n')).toBe('dockerfile parse error line 2: WORKDIR requires exactly one argument');
    expect(err('FROM x\nSHELL /bin/sh\n')).toBe('dockerfile parse error line 2: SHELL requires the arguments to be in JSON form');
    expect(err('FROM x\nONBUILD ONBUILD RUN x\n')).toBe("dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    expect(err('FROM x\nONBUILD FROM y\n')).toBe("dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger");
    expect(err('FROM x\nARG =x\n')).toBe('dockerfile parse error line 2: ARG names can not be blank');
    expect(err('FROM x\nCOPY a <<EOF\nEOF\n')).toBe('dockerfile parse error line 2: COPY cannot accept a heredoc as a destination');
    expect(() => parse('FROM x\nENV A=1 B\n')).toThrow('Syntax error - can\'t find = in "B". Must be of the form: name=value');
    expect(() => parse('FROM x\nLABEL a\n')).toThrow('LABEL must have two arguments');
    expect(() => parse('FROM x\nCMD ["a", 1]\n')).toThrow('when using JSON array syntax, arrays must be comprised of strings only');
  });
});
