// tf.data.csv: a re-iterable dataset of the rows of a CSV file, read line by line on every
// pass, with tfjs' options (hasHeader, columnNames, columnConfigs with isLabel / dtype /
// default / required, configuredColumnsOnly, delimiter, delimWhitespace) and tfjs' element
// shapes: {column: value} rows, or {xs: {...}, ys: {...}} when some column isLabel.
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, NotSupportedError, check, describe } from '../errors.js';
import { Dataset } from './dataset.js';

/** How one column is parsed (tfjs ColumnConfig). */
export interface ColumnConfig {
  /** Rows with an empty value here are an error (unless default is given). */
  required?: boolean;
  /** 'float32' (the default for numbers), 'int32' (floored) or 'bool' ('1' / 'true' -> 1, else 0). */
  dtype?: 'float32' | 'int32' | 'bool';
  /** The value of an empty field. */
  default?: number | string | boolean;
  /** The column goes into ys (and the others into xs). */
  isLabel?: boolean;
}

/** Options of csv() (tfjs CSVConfig). */
export interface CSVConfig {
  /** Whether the first line names the columns (default true). */
  hasHeader?: boolean;
  /** Column names; required when hasHeader is false, and they replace the header's names otherwise. */
  columnNames?: string[];
  /** Per-column parsing options, by column name. */
  columnConfigs?: { [name: string]: ColumnConfig };
  /** Only the columns named in columnConfigs go into the elements (default false). */
  configuredColumnsOnly?: boolean;
  /** Field separator (default ','). */
  delimiter?: string;
  /** Fields are separated by runs of whitespace (delimiter is then ignored). */
  delimWhitespace?: boolean;
}

/** A CSV row: column name -> number (or the string of a non-numeric field, or undefined when empty). */
export type CSVRow = { [column: string]: number | string | boolean | undefined };

/** Splits one CSV line into fields, honouring double quotes ("" is a quote inside quotes). */
export function parseCsvLine(line: string, delimiter = ',', delimWhitespace = false): string[] {
  if (delimWhitespace) return line.trim().split(/\s+/);
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (line.startsWith(delimiter, i)) {
      fields.push(field);
      field = '';
      i += delimiter.length - 1;
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function toPath(source: string): string {
  if (/^https?:\/\//i.test(source))
    throw new NotSupportedError(`csv: expected a file path or file:// URL but received '${source}' (download the file first; cudnn-node reads local files)`);
  return source.startsWith('file://') ? fileURLToPath(source) : source;
}

async function* lines(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  try {
    for await (const line of rl) if (line.trim() !== '') yield line;
  } finally {
    rl.close();
  }
}

function parseValue(value: string, config: ColumnConfig | undefined, key: string, line: string): number | string | boolean | undefined {
  if (value === '') {
    if (config?.default !== undefined) return config.default;
    if (config?.required || config?.isLabel) throw new InvalidArgumentError(`csv: expected a value in required column '${key}' but received an empty field in line: ${line}`);
    return undefined;
  }
  const asBool = () => (value === '1' || value.toLowerCase() === 'true' ? 1 : 0);
  const n = Number(value);
  if (Number.isNaN(n)) return config?.dtype === 'bool' ? asBool() : value;
  if (config?.dtype === 'int32') return Math.floor(n);
  if (config?.dtype === 'bool') return asBool();
  return n;
}

/** A CSV file as a dataset (tfjs CSVDataset); columnNames() reads the header once. */
export class CSVDataset extends Dataset<CSVRow | { xs: CSVRow; ys: CSVRow }> {
  private names: Promise<string[]> | null = null;

  /** @internal use csv(). */
  constructor(
    private readonly path: string,
    private readonly config: Required<Pick<CSVConfig, 'hasHeader' | 'delimiter' | 'delimWhitespace' | 'configuredColumnsOnly'>> & CSVConfig,
  ) {
    // The source runs only when iterated, after the constructor has finished.
    let self: CSVDataset | undefined = undefined;
    super(() => self!.rows(), null);
    self = this;
  }

  /** The column names: columnNames if given, else the header's. */
  async columnNames(): Promise<string[]> {
    this.names ??= this.readColumnNames();
    return this.names;
  }

  private async readColumnNames(): Promise<string[]> {
    const { hasHeader, columnNames, columnConfigs, delimiter, delimWhitespace } = this.config;
    let fromFile: string[] | undefined;
    if (hasHeader) {
      const it = lines(this.path);
      const first = await it.next();
      await it.return(undefined);
      check(!first.done, 'csv', `a header line in ${this.path}`, 'an empty file');
      fromFile = parseCsvLine(first.value, delimiter, delimWhitespace).map((s) => s.trim());
    }
    const names = columnNames ?? fromFile;
    check(names !== undefined, 'csv', 'columnNames when hasHeader is false', columnNames);
    if (fromFile && columnNames && fromFile.length !== columnNames.length)
      throw new InvalidArgumentError(`csv: expected ${fromFile.length} columnNames (the header's count) but received ${columnNames.length}`);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new InvalidArgumentError(`csv: expected unique column names but received '${dup}' twice`);
    for (const key of Object.keys(columnConfigs ?? {}))
      if (!names.includes(key)) throw new InvalidArgumentError(`csv: expected columnConfigs keys among the column names ${describe(names)} but received '${key}'`);
    return names;
  }

  private async *rows(): AsyncGenerator<CSVRow | { xs: CSVRow; ys: CSVRow }> {
    const names = await this.columnNames();
    const { hasHeader, columnConfigs, configuredColumnsOnly, delimiter, delimWhitespace } = this.config;
    let first = true;
    for await (const line of lines(this.path)) {
      if (first && hasHeader) {
        first = false;
        continue;
      }
      first = false;
      const fields = parseCsvLine(line, delimiter, delimWhitespace);
      if (fields.length !== names.length)
        throw new InvalidArgumentError(`csv: expected ${names.length} fields (one per column) but received ${fields.length} in line: ${line}`);
      const xs: CSVRow = {};
      const ys: CSVRow = {};
      names.forEach((key, i) => {
        const config = columnConfigs?.[key];
        if (configuredColumnsOnly && !config) return;
        const v = parseValue(fields[i], config, key, line);
        if (config?.isLabel) ys[key] = v;
        else xs[key] = v;
      });
      yield Object.keys(ys).length ? { xs, ys } : xs;
    }
  }
}

/**
 * tf.data.csv(source, config): the rows of a local CSV file (a path or a file:// URL),
 * re-read on every pass. Throws NotSupportedError for http(s) URLs.
 */
export function csv(source: string, config: CSVConfig = {}): CSVDataset {
  check(typeof source === 'string', 'csv', 'a file path or file:// URL', source);
  check(config && typeof config === 'object', 'csv', 'a config object', config);
  const path = toPath(source);
  check(existsSync(path), 'csv', 'an existing file', path);
  const delimiter = config.delimiter ?? ',';
  check(typeof delimiter === 'string' && delimiter.length > 0, 'csv', 'a non-empty delimiter', delimiter);
  if (config.columnNames !== undefined) check(Array.isArray(config.columnNames) && config.columnNames.every((n) => typeof n === 'string'), 'csv', 'columnNames as an array of strings', config.columnNames);
  return new CSVDataset(path, {
    ...config,
    hasHeader: config.hasHeader ?? true,
    delimiter,
    delimWhitespace: config.delimWhitespace ?? false,
    configuredColumnsOnly: config.configuredColumnsOnly ?? false,
  });
}
