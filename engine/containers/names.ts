/**
 * Random container names ("adjective_surname") and the name rules Docker
 * enforces. The word lists are our own.
 */
import { randomInt } from 'node:crypto';
import { InvalidParameterError } from '../errdefs.js';

const adjectives = [
  'agile', 'bold', 'brave', 'bright', 'busy', 'calm', 'clever', 'cool', 'crisp', 'curious', 'daring', 'eager', 'elated',
  'epic', 'fervent', 'fond', 'friendly', 'gallant', 'gentle', 'happy', 'hardy', 'hopeful', 'humble', 'jolly', 'keen',
  'kind', 'lively', 'loyal', 'lucid', 'merry', 'mellow', 'modest', 'nifty', 'noble', 'patient', 'peaceful', 'plucky',
  'polite', 'proud', 'quick', 'quiet', 'radiant', 'relaxed', 'serene', 'sharp', 'shiny', 'silent', 'sleek', 'smart',
  'snappy', 'steady', 'sturdy', 'sunny', 'swift', 'tender', 'tidy', 'trusty', 'upbeat', 'vibrant', 'vivid', 'warm',
  'wise', 'witty', 'zealous', 'zen',
];

const surnames = [
  'agnesi', 'archimedes', 'babbage', 'banach', 'bardeen', 'bell', 'bohr', 'boole', 'borg', 'bose', 'cannon', 'cerf',
  'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'franklin',
  'galileo', 'gauss', 'goodall', 'hamilton', 'hawking', 'hertz', 'hopper', 'hypatia', 'johnson', 'joule', 'kepler',
  'knuth', 'kowalevski', 'lamarr', 'lamport', 'leakey', 'liskov', 'lovelace', 'maxwell', 'meitner', 'mendel',
  'mirzakhani', 'morse', 'newton', 'nobel', 'noether', 'pascal', 'pasteur', 'planck', 'ptolemy', 'raman', 'ritchie',
  'rubin', 'sagan', 'shannon', 'somerville', 'tesla', 'thompson', 'torvalds', 'turing', 'volta', 'wilson', 'wozniak',
  'wright', 'yalow', 'yonath',
];

export function randomName(retry = 0): string {
  const name = `${adjectives[randomInt(adjectives.length)]}_${surnames[randomInt(surnames.length)]}`;
  return retry > 0 ? `${name}${randomInt(10)}` : name;
}

const validName = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Returns the name without its leading slash, or throws Docker's error. */
export function validateName(name: string): string {
  if (!validName.test(name)) throw new InvalidParameterError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name.slice(1) : name;
}
