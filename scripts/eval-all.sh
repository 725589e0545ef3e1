#!/usr/bin/env bash
# Runs every policy-Q&A question set against a fresh library, offline, and prints one line per set:
# `kb eval --json` (the built-in scorer) and black-box `kb ask --batch --json` scored strictly by
# scripts/score-batch.mjs (a declined answer never counts as right).
#
# usage: scripts/eval-all.sh [CODE_DIR]
#   CODE_DIR  a checkout / git worktree whose code is measured (default: this script's checkout),
#             e.g. `git -C /work/main worktree add /work/untuned <commit>` for an old commit.
# Question sets and the unseen documents come from SETS_DIR (default: CODE_DIR); the library is
# ../shared/corpus (recursively, seeds included) + CODE_DIR/knowledge (the bundled pack of the code
# under test) + SETS_DIR/eval/docs/unseen (dev and held-back documents together).
# Raw outputs are kept in EVAL_OUT (default: a new temp dir, printed at the end).
# EVAL_SETS="unseen-dev unseen-heldback" runs only the named sets (names as in the table).
set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CODE_DIR=$(cd "${1:-$SELF_DIR}" && pwd)
SETS_DIR=$(cd "${SETS_DIR:-$CODE_DIR}" && pwd)
SHARED=$(cd "$SETS_DIR/../shared" && pwd)
OUT=${EVAL_OUT:-$(mktemp -d -t kb-eval-out.XXXXXX)}
mkdir -p "$OUT"
DATA=$(mktemp -d -t kb-eval-data.XXXXXX)
trap 'rm -rf "$DATA"' EXIT

# Offline and self-contained: no model, no embeddings, no PostgreSQL, SQLite in the temp dir.
unset LLM_BASE_URL LLM_API_KEY LLM_MODEL EMBEDDING_BASE_URL EMBEDDING_API_KEY EMBEDDING_MODEL DATABASE_URL || true
export DATA_DIR="$DATA" KNOWLEDGE_DIR="$CODE_DIR/knowledge" LOG_LEVEL=error

cli() { (cd "$CODE_DIR" && npm run -s cli -- "$@"); }

commit=$(git -C "$CODE_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')
dirty=$(git -C "$CODE_DIR" status --porcelain --untracked-files=no -- src knowledge 2>/dev/null | wc -l | tr -d ' ')
echo "code: $CODE_DIR (commit $commit${dirty:+, $dirty modified files under src/ knowledge/})"
echo "sets: $SETS_DIR"

cli kb ingest "$SHARED/corpus" "$CODE_DIR/knowledge" "$SETS_DIR/eval/docs/unseen" --json >"$OUT/ingest.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`library: ${r.added.length + r.updated.length + r.unchanged.length} files, ${r.chunks} passages, ${r.failed.length} failed`);
  for (const f of r.failed) console.log("  FAILED " + f.message);
' "$OUT/ingest.json"

SETS=(
  "dev=$SHARED/eval/dev-questions.jsonl"
  "heldout=$SETS_DIR/eval/heldout-questions.jsonl"
  "fresh=$SETS_DIR/eval/fresh-questions.jsonl"
  "fresh2=$SETS_DIR/eval/fresh2-questions.jsonl"
  "unseen-dev=$SETS_DIR/eval/unseen/dev-questions.jsonl"
  "unseen-heldback=$SETS_DIR/eval/unseen/heldback-questions.jsonl"
)

pct() { node -e 'const x = Number(process.argv[1]); process.stdout.write((x * 100).toFixed(1))' "$1"; }

printf '%-16s %4s  %-22s  %-22s\n' set n 'kb eval f/c/d %' 'ask --batch f/c/d %'
for entry in "${SETS[@]}"; do
  name=${entry%%=*}
  file=${entry#*=}
  if [[ -n ${EVAL_SETS:-} && " $EVAL_SETS " != *" $name "* ]]; then continue; fi
  if [[ ! -f $file ]]; then
    printf '%-16s  (missing: %s)\n' "$name" "$file"
    continue
  fi
  cli kb eval "$file" --json >"$OUT/$name.eval.json"
  cli kb ask --batch "$file" --json >"$OUT/$name.answers.jsonl"
  node "$SELF_DIR/scripts/score-batch.mjs" "$file" "$OUT/$name.answers.jsonl" --json >"$OUT/$name.batch.json"
  read -r n ef ec ed < <(node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(s.total, s.factAccuracy, s.citationAccuracy, s.abstentionAccuracy);' "$OUT/$name.eval.json")
  read -r bf bc bd < <(node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(s.fact, s.citation, s.declines);' "$OUT/$name.batch.json")
  printf '%-16s %4s  %-22s  %-22s\n' "$name" "$n" "$(pct "$ef") / $(pct "$ec") / $(pct "$ed")" "$(pct "$bf") / $(pct "$bc") / $(pct "$bd")"
done
echo "raw outputs: $OUT"
