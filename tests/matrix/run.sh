#!/usr/bin/env bash
# Run the ansible-core version matrix (tests/matrix/versions.txt) and print version x suite x result.
#
# Usage: tests/matrix/run.sh [CORE...]        e.g. tests/matrix/run.sh 2.16 2.21   (default: every row)
#
# Per row, in that row's cached venv (tests/matrix/venv.sh), the suites the row lists:
#   sanity       make sanity            ansible-test sanity on a copy (tests/sanity/ansible-test.sh)
#   units        make test-unit         pytest tests/unit
#                make ansible-test-units  ansible-test units on a copy: the community CI job; it must
#                                       run tests (a run with no passed test counts as failed)
#   integration  make test-integration  the playbooks against the emulator
#   molecule     make molecule          extensions/molecule scenarios
# Two lanes run at once, as they share no state: one runs sanity and units row after row (each
# ansible-test run on its own copy of the checkout), the other the integration and molecule suites
# (emulators on their own ports, but one molecule scenario directory, so those stay one at a time).
# MATRIX_LANES=1 runs everything in one lane. Logs: tests/output/matrix/<core>/<suite>.log.
# Exit status: 0 when every cell passed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
checkout="$(cd "$here/../.." && pwd)"
cd "$checkout" || exit 2
out="$checkout/tests/output/matrix"
lanes="${MATRIX_LANES:-2}"

mapfile -t rows < <(grep -v -E '^[[:space:]]*(#|$)' "$here/versions.txt" | tr -s ' \t' ' ')
if (($#)); then
    selected=()
    for core in "$@"; do
        found=""
        for row in "${rows[@]}"; do
            [[ "${row%% *}" == "$core" ]] && { selected+=("$row"); found=1; }
        done
        [[ -n "$found" ]] || { echo "ERROR: ansible-core $core is not in $here/versions.txt" >&2; exit 2; }
    done
    rows=("${selected[@]}")
fi

# Jobs of a lane: "core suite" pairs in order.
static_jobs=()
playbook_jobs=()
for row in "${rows[@]}"; do
    read -r core _python suites <<<"$row"
    for suite in $suites; do
        case "$suite" in
            sanity) static_jobs+=("$core sanity") ;;
            units) static_jobs+=("$core units" "$core ansible-test-units") ;;
            integration | molecule) playbook_jobs+=("$core $suite") ;;
            *) echo "ERROR: unknown suite $suite in $here/versions.txt" >&2; exit 2 ;;
        esac
    done
done

# Number of passed tests in a pytest log (its closing line), or empty.
passed_count() {
    grep -E '^=+ .*[0-9]+ passed' "$1" | tail -n 1 | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+'
}

run_job() {
    local core="$1" suite="$2" dir="$out/$1" venv status start
    mkdir -p "$dir"
    local log="$dir/$suite.log"
    start=$SECONDS
    {
        if ! venv="$("$here/venv.sh" "$core")"; then
            echo "ERROR: no venv for ansible-core $core"
            status=1
        else
            echo "venv: $venv ($("$venv/bin/python" -c 'import ansible.release as r, sys; print("ansible-core", r.__version__, "Python %d.%d.%d" % sys.version_info[:3])'))"
            case "$suite" in
                sanity) make --no-print-directory sanity VENV="$venv" ;;
                units) make --no-print-directory test-unit VENV="$venv" ;;
                ansible-test-units) make --no-print-directory ansible-test-units VENV="$venv" ;;
                integration) make --no-print-directory test-integration VENV="$venv" ;;
                molecule) make --no-print-directory molecule VENV="$venv" ;;
            esac
            status=$?
        fi
        echo "$status" >"$dir/$suite.rc"
    } >"$log" 2>&1 </dev/null
    status="$(cat "$dir/$suite.rc")"
    # A test suite that exited 0 without a single passed test (pytest's or ansible-test's) failed.
    if [[ $status -eq 0 && ( "$suite" == units || "$suite" == *-units || "$suite" == integration ) ]]; then
        count="$(passed_count "$log")"
        if [[ -z "$count" || "$count" -eq 0 ]]; then
            echo "ERROR: $suite exited 0 but no test passed: counted as failed" >>"$log"
            status=1
            echo "$status" >"$dir/$suite.rc"
        fi
    fi
    echo "$((SECONDS - start))" >"$dir/$suite.seconds"
    if [[ "$status" -eq 0 ]]; then
        echo "matrix: $core $suite passed ($((SECONDS - start))s)"
    else
        echo "matrix: $core $suite FAILED ($((SECONDS - start))s, exit $status); errors, then the last lines of $log:"
        grep -E '^(ERROR|FATAL|FAILED|E  )' "$log" | head -n 60 | sed 's/^/    /'
        echo "    ..."
        tail -n 15 "$log" | sed 's/^/    /'
    fi
}

run_lane() {
    local job
    for job in "$@"; do
        # shellcheck disable=SC2086  # "core suite"
        run_job $job
    done
}

rm -rf "$out"
mkdir -p "$out"
start=$SECONDS
if ((lanes > 1)); then
    run_lane "${static_jobs[@]}" &
    static_pid=$!
    run_lane "${playbook_jobs[@]}" &
    playbook_pid=$!
    wait "$static_pid" "$playbook_pid"
else
    run_lane "${static_jobs[@]}" "${playbook_jobs[@]}"
fi
elapsed=$((SECONDS - start))

# The table: one line per row, one column per suite; a cell is passed/FAILED (seconds[, tests]) or -.
columns=(sanity units ansible-test-units integration molecule)
print_table() {
printf '%-6s %-7s' "core" "python"
for column in "${columns[@]}"; do printf ' | %-22s' "$column"; done
printf '\n'
for row in "${rows[@]}"; do
    read -r core python suites <<<"$row"
    expected=" ${suites/units/units ansible-test-units} "
    printf '%-6s %-7s' "$core" "$python"
    for column in "${columns[@]}"; do
        cell="-"
        if [[ "$expected" == *" $column "* && ! -f "$out/$core/$column.rc" ]]; then
            cell="NOT RUN"
        elif [[ -f "$out/$core/$column.rc" ]]; then
            rc="$(cat "$out/$core/$column.rc")"
            seconds="$(cat "$out/$core/$column.seconds" 2>/dev/null || echo '?')"
            count="$(passed_count "$out/$core/$column.log")"
            if [[ "$rc" -eq 0 ]]; then cell="passed"; else cell="FAILED"; fi
            cell="$cell ${seconds}s${count:+ ${count}t}"
        fi
        printf ' | %-22s' "$cell"
    done
    printf '\n'
done
}
print_table >"$out/table.txt"
passed="$(grep -o 'passed [0-9]' "$out/table.txt" | wc -l)"
failed="$(grep -oE 'FAILED|NOT RUN' "$out/table.txt" | wc -l)"
status=0
((failed == 0)) || status=1
echo "(Ns: seconds; Nt: tests passed; matrix wall time ${elapsed}s, $lanes lane(s))" >>"$out/table.txt"
echo
cat "$out/table.txt"
# A closing line in the plain form CI reads: cells of the matrix.
echo "matrix: $passed passed, $failed failed"
exit "$status"
