import type { Problem } from './problem.ts';

/** An error in words: the sentence saying what to do, and the code to search for or report. */
export function ProblemMessage({ problem, prefix }: { problem: Problem; prefix?: string }) {
  return (
    <div className="error" role="alert" data-error-code={problem.code}>
      <p data-part="detail">{prefix ? `${prefix}: ${problem.detail}` : problem.detail}</p>
      <p className="code">Error code: <code>{problem.code}</code></p>
    </div>
  );
}
