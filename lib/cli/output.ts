/**
 * Checks of the command line's output paths, made before any work starts: a run that would fail
 * to write its result after minutes of computing fails at once instead, with a coded error
 * (`ERR_ITOKIT_INVALID_ARG`) that names the path and the system's reason (EACCES, EROFS, ENOTDIR…).
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError } from '../errors';

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^\w+: /, '')}` : String(err.message ?? e);
}

/** Writes and removes a probe file in `dir`; throws the coded error when that fails. */
function probe(dir: string, label: string): void {
  const file = path.join(dir, `.itokit-write-test-${process.pid}-${Date.now()}`);
  try {
    fs.writeFileSync(file, '', { flag: 'wx' });
    fs.unlinkSync(file);
  } catch (e) {
    throw new InvalidArgumentError(`${label} ${dir}: cannot write there (${reason(e)})`);
  }
}

/**
 * Creates `dir` (with its parents) when missing and proves it writable by writing a probe file.
 * @param label - how the path is named in errors, e.g. "--out"
 * @returns the absolute path
 */
export function ensureWritableDir(dir: string, label: string): string {
  const abs = path.resolve(dir);
  try {
    fs.mkdirSync(abs, { recursive: true });
  } catch (e) {
    throw new InvalidArgumentError(`${label} ${abs}: cannot create the folder (${reason(e)})`);
  }
  if (!fs.statSync(abs).isDirectory()) throw new InvalidArgumentError(`${label} ${abs}: not a folder`);
  probe(abs, label);
  return abs;
}

/**
 * Checks that `file` can be written: its folder exists and takes a new file, and the file itself,
 * when present, is a regular file that opens for writing. Nothing is created or changed.
 * @returns the absolute path
 */
export function checkWritableFile(file: string, label: string): string {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw new InvalidArgumentError(`${label} ${abs}: its folder is not usable (${reason(e)})`);
  }
  if (!st.isDirectory()) throw new InvalidArgumentError(`${label} ${abs}: ${dir} is not a folder`);
  if (fs.existsSync(abs)) {
    if (!fs.statSync(abs).isFile()) throw new InvalidArgumentError(`${label} ${abs}: exists and is not a regular file`);
    try {
      fs.closeSync(fs.openSync(abs, 'r+'));
    } catch (e) {
      throw new InvalidArgumentError(`${label} ${abs}: cannot write it (${reason(e)})`);
    }
  } else {
    probe(dir, label);
  }
  return abs;
}
