/**
 * Just enough PromQL and Prometheus text-format parsing to ask "does every metric and label these
 * queries name exist in what the services emit?". Not a full PromQL parser: promtool checks syntax.
 */

/** What a PromQL expression refers to. */
export interface PromqlRefs {
  /** Metric names as written (a histogram's `_bucket` series included). */
  readonly metrics: ReadonlySet<string>;
  /** Label names in each metric's `{…}` selector. */
  readonly selectorLabels: ReadonlyMap<string, ReadonlySet<string>>;
  /** Label names in `by`, `without`, `on`, `ignoring`, `group_left` and `group_right` lists. */
  readonly groupingLabels: ReadonlySet<string>;
}

const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

const FUNCTIONS = new Set([
  'abs',
  'absent',
  'absent_over_time',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'avg_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'cos',
  'cosh',
  'count_over_time',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'deg',
  'delta',
  'deriv',
  'end',
  'exp',
  'floor',
  'histogram_count',
  'histogram_fraction',
  'histogram_quantile',
  'histogram_stddev',
  'histogram_stdvar',
  'histogram_sum',
  'holt_winters',
  'hour',
  'idelta',
  'increase',
  'irate',
  'label_join',
  'label_replace',
  'last_over_time',
  'ln',
  'log10',
  'log2',
  'mad_over_time',
  'max_over_time',
  'min_over_time',
  'minute',
  'month',
  'pi',
  'predict_linear',
  'present_over_time',
  'quantile_over_time',
  'rad',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sin',
  'sinh',
  'sort',
  'sort_desc',
  'sqrt',
  'start',
  'stddev_over_time',
  'stdvar_over_time',
  'sum_over_time',
  'tan',
  'tanh',
  'time',
  'timestamp',
  'vector',
  'year',
]);

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

type Token =
  | { readonly kind: 'ident'; readonly text: string }
  | { readonly kind: 'selector'; readonly labels: readonly string[] }
  | { readonly kind: 'punct'; readonly text: string }
  | { readonly kind: 'other' };

const IDENT = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:\d+(?:ms|[smhdwy]))+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;
// Grafana variables ($__rate_interval, ${instance}) stand where a scalar or duration would.
const GRAFANA_VARIABLE = /^\$(?:\{[^}]*\}|\w+)/;
const MATCH_OPERATOR = /^(?:=~|!~|!=|=)/;

function skipString(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += text[i] === '\\' && quote !== '`' ? 2 : 1;
  if (i >= text.length) throw new Error(`unterminated string at ${start} in: ${text}`);
  return i + 1;
}

function parseSelector(text: string, start: number): { labels: string[]; end: number } {
  const labels: string[] = [];
  let i = start + 1;
  for (;;) {
    while (/[\s,]/.test(text[i] ?? '')) i++;
    if (text[i] === '}') return { labels, end: i + 1 };
    const name = LABEL.exec(text.slice(i))?.[0];
    if (name === undefined) throw new Error(`expected a label name at ${i} in: ${text}`);
    labels.push(name);
    i += name.length;
    while (/\s/.test(text[i] ?? '')) i++;
    const op = MATCH_OPERATOR.exec(text.slice(i))?.[0];
    if (op === undefined) throw new Error(`expected a matcher after ${name} in: ${text}`);
    i += op.length;
    while (/\s/.test(text[i] ?? '')) i++;
    if (!['"', "'", '`'].includes(text[i] ?? '')) throw new Error(`expected a string after ${name}${op}`);
    i = skipString(text, i);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const rest = text.slice(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipString(text, i);
      tokens.push({ kind: 'other' });
    } else if (c === '[') {
      // Range or subquery: durations and Grafana interval variables only.
      const end = text.indexOf(']', i);
      if (end < 0) throw new Error(`unterminated range at ${i} in: ${text}`);
      i = end + 1;
      tokens.push({ kind: 'other' });
    } else if (c === '{') {
      const { labels, end } = parseSelector(text, i);
      tokens.push({ kind: 'selector', labels });
      i = end;
    } else if (NUMBER.test(rest)) {
      i += NUMBER.exec(rest)?.[0].length ?? 1;
      tokens.push({ kind: 'other' });
    } else if (GRAFANA_VARIABLE.test(rest)) {
      i += GRAFANA_VARIABLE.exec(rest)?.[0].length ?? 1;
      tokens.push({ kind: 'other' });
    } else if (IDENT.test(rest)) {
      const ident = IDENT.exec(rest)?.[0] ?? c;
      tokens.push({ kind: 'ident', text: ident });
      i += ident.length;
    } else {
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

/** Metric names and label names an expression refers to; throws on constructs it cannot read. */
export function promqlRefs(expr: string): PromqlRefs {
  if (expr.trim() === '') throw new Error('empty PromQL expression');
  const tokens = tokenize(expr);
  const metrics = new Set<string>();
  const selectorLabels = new Map<string, Set<string>>();
  const groupingLabels = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const next = tokens[i + 1];
    if (token?.kind === 'selector') {
      throw new Error(`a selector without a metric name is not supported: ${expr}`);
    }
    if (token?.kind !== 'ident') continue;
    const word = token.text;
    const lower = word.toLowerCase();
    const isCall = next?.kind === 'punct' && next.text === '(';
    if (GROUPING.has(lower)) {
      if (!isCall) continue; // group_left without a label list
      let j = i + 2;
      for (; j < tokens.length; j++) {
        const t = tokens[j];
        if (t?.kind === 'punct' && t.text === ')') break;
        if (t?.kind === 'ident') groupingLabels.add(t.text);
      }
      i = j;
    } else if (KEYWORDS.has(lower)) {
      continue;
    } else if (AGGREGATIONS.has(word)) {
      const followedByGrouping = next?.kind === 'ident' && GROUPING.has(next.text);
      if (!isCall && !followedByGrouping) throw new Error(`aggregation ${word} without arguments: ${expr}`);
    } else if (isCall) {
      if (!FUNCTIONS.has(word)) throw new Error(`unknown PromQL function ${word}(): ${expr}`);
    } else {
      metrics.add(word);
      const labels = selectorLabels.get(word) ?? new Set<string>();
      selectorLabels.set(word, labels);
      if (next?.kind === 'selector') {
        for (const l of next.labels) labels.add(l);
        i++;
      }
    }
  }
  return { metrics, selectorLabels, groupingLabels };
}

/** One metric family as the services expose it. */
export interface Family {
  readonly type: string;
  readonly labels: Set<string>;
  readonly samples: {
    readonly name: string;
    readonly labels: Record<string, string>;
    readonly value: number;
  }[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const SAMPLE_LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const SERIES_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** Families of a Prometheus text-format scrape, keyed by the name in their `# TYPE` line. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const typeLine = /^# TYPE (\S+) (\S+)/.exec(line);
    if (typeLine !== null) {
      families.set(typeLine[1] ?? '', { type: typeLine[2] ?? '', labels: new Set(), samples: [] });
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const sample = SAMPLE.exec(line);
    if (sample === null) throw new Error(`unreadable exposition line: ${line}`);
    const name = sample[1] ?? '';
    const family = families.get(familyOf(families, name) ?? name);
    if (family === undefined) throw new Error(`sample ${name} has no # TYPE line`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(SAMPLE_LABEL)) {
      labels[m[1] ?? ''] = m[2] ?? '';
      family.labels.add(m[1] ?? '');
    }
    family.samples.push({ name, labels, value: Number(sample[3]) });
  }
  return families;
}

/** The family a written series name belongs to: itself, or a histogram/summary's base name. */
export function familyOf(families: ReadonlyMap<string, Family>, name: string): string | undefined {
  if (families.has(name)) return name;
  for (const suffix of SERIES_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === 'histogram' || type === 'summary') return base;
  }
  return undefined;
}

/** Added by Prometheus, not by the services: the scrape health series and the target labels. */
export const TARGET_LABELS: ReadonlySet<string> = new Set(['job', 'instance']);
export const SCRAPE_SERIES: ReadonlySet<string> = new Set(['up']);

/**
 * Every way `expr` names something the services do not emit: an unknown metric, a selector label
 * the metric lacks, or a grouping label none of the expression's metrics carries.
 */
export function missingReferences(expr: string, families: ReadonlyMap<string, Family>): string[] {
  const refs = promqlRefs(expr);
  const problems: string[] = [];
  const available = new Set(TARGET_LABELS);
  for (const metric of refs.metrics) {
    if (SCRAPE_SERIES.has(metric)) continue;
    const family = familyOf(families, metric);
    if (family === undefined) {
      problems.push(`metric ${metric} is not emitted`);
      continue;
    }
    const labels = families.get(family)?.labels ?? new Set<string>();
    for (const label of labels) available.add(label);
    for (const label of refs.selectorLabels.get(metric) ?? []) {
      if (!labels.has(label) && !TARGET_LABELS.has(label)) {
        problems.push(`metric ${metric} has no label ${label}`);
      }
    }
  }
  for (const label of refs.groupingLabels) {
    if (!available.has(label)) problems.push(`no metric in the expression has the grouping label ${label}`);
  }
  return problems;
}
