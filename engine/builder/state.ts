/**
 * The state one stage's instructions change (moby's dispatchState): the run
 * config the next image gets, the image so far, the maintainer, whether CMD
 * was set, the stage's build args — and the run-config helpers the
 * dispatchers share (copies, the SHELL prefix, the `#(nop)` commands that
 * become history entries and cache keys).
 */
import type { ImageRunConfig, Platform } from '../images/oci.js';
import type { BuildArgs } from './buildargs.js';
import type { BuildImage } from './backend.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class DispatchState {
  runConfig: ImageRunConfig = {};
  maintainer = '';
  cmdSet = false;
  /** The current image ('' before anything was committed on scratch). */
  imageID = '';
  baseImage: BuildImage | undefined;
  /** FROM scratch (an image ID of '' is then still "an image"). */
  scratch = false;
  stageName = '';
  platform: Platform = { os: 'linux', architecture: 'amd64' };

  constructor(readonly buildArgs: BuildArgs) {}

  hasFromImage(): boolean {
    return this.imageID !== '' || this.scratch;
  }

  /** After each step: the run config records the image it applies to, as dockerd does. */
  updateRunConfig(): void {
    this.runConfig.Image = this.imageID;
  }

  beginStage(name: string, image: BuildImage | undefined, platform: Platform): void {
    this.stageName = name;
    this.imageID = image?.id ?? '';
    this.scratch = image === undefined;
    this.baseImage = image;
    this.platform = platform;
    this.runConfig = image?.config.config ? copyRunConfig(image.config.config) : {};
    // The default PATH, unless the image has one.
    const env = this.runConfig.Env ?? [];
    if (!env.some((e) => e.split('=', 1)[0] === 'PATH')) this.runConfig.Env = [...env, `PATH=${DEFAULT_PATH}`];
    this.runConfig.OpenStdin = false;
    this.runConfig.StdinOnce = false;
  }
}

const copyList = (l: readonly string[] | null | undefined) => (l === null || l === undefined ? l : [...l]);

/** moby's copyRunConfig: a deep enough copy, then the modifiers. */
export function copyRunConfig(c: ImageRunConfig, ...mods: Array<(c: ImageRunConfig) => void>): ImageRunConfig {
  const out: ImageRunConfig = { ...c };
  if (c.Cmd !== undefined) out.Cmd = copyList(c.Cmd);
  if (c.Env !== undefined) out.Env = copyList(c.Env);
  if (c.Entrypoint !== undefined) out.Entrypoint = copyList(c.Entrypoint);
  if (c.OnBuild !== undefined) out.OnBuild = copyList(c.OnBuild);
  if (c.Shell !== undefined) out.Shell = copyList(c.Shell);
  if (c.Volumes) out.Volumes = { ...c.Volumes };
  if (c.ExposedPorts) out.ExposedPorts = { ...c.ExposedPorts };
  if (c.Labels) out.Labels = { ...c.Labels };
  if (c.Healthcheck) out.Healthcheck = { ...c.Healthcheck, ...(c.Healthcheck.Test ? { Test: [...c.Healthcheck.Test] } : {}) };
  for (const m of mods) m(out);
  return out;
}

export function getShell(c: ImageRunConfig): string[] {
  return c.Shell && c.Shell.length > 0 ? [...c.Shell] : [...DEFAULT_SHELL];
}

/** Config-only steps: Cmd = [shell..., "#(nop) ", comment] — two spaces in the history entry. */
export const withCmdComment = (comment: string) => (c: ImageRunConfig) => {
  c.Cmd = [...getShell(c), '#(nop) ', comment];
};

/** WORKDIR, COPY and ADD: one argument, "#(nop) " + comment. */
export const withCmdCommentString = (comment: string) => (c: ImageRunConfig) => {
  c.Cmd = [...getShell(c), '#(nop) ' + comment];
};
