#!/bin/bash
# run-tests.sh KIND BIN... [-- BIN... [-- SCRIPT...]]
# Runs unit binaries, fuzz-corpus replays and e2e scripts, prints each one's TAP output indented,
# and ends with one line "N passed, N failed" summing the per-binary counts. A binary that
# crashes or exits non-zero without a summary line counts as one failure.
# Logs of each run land in build/test-logs/.
set -u
kind=$1; shift
logdir=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$logdir"
pass=0 fail=0
section=$kind
[ "$kind" = all ] && section=unit
failed_names=()
for t in "$@"; do
        if [ "$t" = "--" ]; then
                case $section in unit) section=fuzz ;; fuzz) section=e2e ;; esac
                continue
        fi
        name=$(basename "$t")
        case $t in */tests/unit/*) name=${t##*/tests/unit/} ;; esac
        log=$logdir/$section-${name//\//-}.log
        start=$(date +%s.%N)
        case $section in
        unit) if [ -n "${VALGRIND:-}" ]; then
                      timeout 900 valgrind --quiet --error-exitcode=99 --leak-check=full \
                              --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp \
                              "$t" >"$log" 2>&1
              else
                      timeout 300 "$t" >"$log" 2>&1
              fi ;;
        fuzz) corpus=tests/fuzz/corpus/${name#fuzz-}
              timeout 300 "$t" "$corpus" >"$log" 2>&1 ;;
        e2e) timeout 1200 bash "$t" >"$log" 2>&1 ;;
        esac
        rc=$?
        secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo 0)")
        summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
        if [ -n "$summary" ]; then
                p=${summary%% passed*}; f=${summary#*, }; f=${f%% failed*}
                if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        elif [ "$rc" -eq 0 ]; then p=1 f=0
        else p=0 f=1
        fi
        pass=$((pass + p)); fail=$((fail + f))
        status=ok; [ "$f" -gt 0 ] && { status=FAIL; failed_names+=("$section/$name"); }
        printf '%-5s %-4s %-40s %4s passed %3s failed  %5ss\n' "$status" "$section" "$name" "$p" "$f" "$secs"
        if [ "$f" -gt 0 ]; then
                grep -E '^(not ok|#)' "$log" | head -n 40 | sed 's/^/        /'
                [ "$section" = e2e ] && tail -n 30 "$log" | sed 's/^/        | /'
        fi
done
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $logdir)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
