# Shared by the bench scripts: a scripted model answering at once and a `pryx serve` on a fresh
# data dir that uses it. Source after setting `pryx` and `llm_bin`; then call
# `start_scripted_core`. Sets `work`, `llm_url`, `port`, `token`, `core_pid` (and PRYX_HOME);
# everything is stopped and removed on exit. Optional: `extra_config` (JSON members added to
# config.json, e.g. `"telemetry": {...}`) and `core_wrap` (a command the core runs under, e.g.
# strace).

work="$(mktemp -d)"
llm_pid=""
core_pid=""
cleanup() {
  [ -n "$core_pid" ] && kill -TERM "$core_pid" 2>/dev/null && wait "$core_pid" 2>/dev/null || true
  [ -n "$llm_pid" ] && kill "$llm_pid" 2>/dev/null && wait "$llm_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_scripted_core() {
  echo '[]' >"$work/script.json"
  "$llm_bin" "$work/script.json" >"$work/llm.port" 2>/dev/null &
  llm_pid=$!
  for _ in $(seq 100); do [ -s "$work/llm.port" ] && break; sleep 0.05; done
  llm_url="http://127.0.0.1:$(head -1 "$work/llm.port")"

  export PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file
  mkdir -p "$PRYX_HOME" "$work/ws"
  cat >"$PRYX_HOME/config.json" <<JSON
{"providers": {"mock": {"kind": "openai-compatible", "base_url": "$llm_url/v1", "catalog_id": "openai"}},
 "defaults": {"model": "mock/gpt-4o"}, "models": {"auto_refresh": false}${extra_config:+, $extra_config}}
JSON
  # shellcheck disable=SC2086 # core_wrap is a command line
  (cd "$work/ws" && exec ${core_wrap:-} "$pryx" serve --announce --log-to file >"$work/core.port" 2>/dev/null) &
  core_pid=$!
  for _ in $(seq 200); do [ -s "$work/core.port" ] && break; sleep 0.05; done
  port="$(head -1 "$work/core.port")"
  token="$(cat "$PRYX_HOME/token")"
}
