"""Checks the official `openai` SDK against Pryx's OpenAI-compatible API (run by openai-sdk.sh).

PRYX_BASE_URL is the gateway's `/v1` URL and PRYX_TOKEN its API token; PRYX_BIN and PRYX_HOME
run `pryx api-keys` against the same data dir. Prints one line per
check and a summary; exits 1 when any check fails.
"""

import json
import os
import subprocess
import sys

import openai

BASE = os.environ["PRYX_BASE_URL"]
TOKEN = os.environ["PRYX_TOKEN"]
client = openai.OpenAI(base_url=BASE, api_key=TOKEN, max_retries=0, timeout=30)
results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok    {name}")
        except Exception as e:  # noqa: BLE001 - every failure is reported, then counted
            results.append((name, e))
            print(f"FAIL  {name}: {type(e).__name__}: {e}")
        return fn

    return wrap


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


@check("models lists the agents")
def _models():
    ids = [m.id for m in client.models.list()]
    expect("pryx:main" in ids, f"pryx:main missing from {ids}")


@check("a chat completion")
def _complete():
    raw = client.chat.completions.with_raw_response.create(
        model="pryx:main", messages=[{"role": "user", "content": "hello"}]
    )
    expect(raw.headers.get("x-pryx-session"), "no x-pryx-session header")
    c = raw.parse()
    expect(c.object == "chat.completion", c.object)
    expect(c.choices[0].message.content == "Hello from Pryx.", c.choices[0].message.content)
    expect(c.choices[0].finish_reason == "stop", c.choices[0].finish_reason)
    expect(c.usage.prompt_tokens == 12 and c.usage.completion_tokens == 4, c.usage)
    expect(c.usage.total_tokens == 16, c.usage)


@check("a stream with usage")
def _stream():
    chunks = list(
        client.chat.completions.create(
            model="pryx:main",
            messages=[{"role": "user", "content": "stream please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    expect(text == "A streamed answer.", repr(text))
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    expect(finishes[-1] == "stop", finishes)
    last = chunks[-1]
    expect(last.choices == [] and last.usage is not None, last)
    expect(last.usage.prompt_tokens == 9 and last.usage.total_tokens == 12, last.usage)


@check("two requests continue one session")
def _continue():
    history = [{"role": "user", "content": "first question"}]
    raw = client.chat.completions.with_raw_response.create(model="pryx", messages=history)
    session = raw.headers.get("x-pryx-session")
    first = raw.parse().choices[0].message.content
    expect(first == "First turn.", first)
    history += [{"role": "assistant", "content": first}, {"role": "user", "content": "second question"}]
    raw = client.chat.completions.with_raw_response.create(
        model="pryx:main", messages=history, extra_headers={"x-pryx-session": session}
    )
    expect(raw.headers.get("x-pryx-session") == session, "another session answered")
    second = raw.parse().choices[0].message.content
    expect(second == "Second turn.", second)
    history[1]["content"] = "something else"
    try:
        client.chat.completions.create(
            model="pryx:main", messages=history, extra_headers={"x-pryx-session": session}
        )
        raise AssertionError("a diverging history was accepted")
    except openai.ConflictError as e:
        expect(e.code == "history_mismatch", e.code)


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@check("pass-through tool calls round-trip (non-streamed and streamed)")
def _client_tools():
    history = [{"role": "user", "content": "weather in Paris and Lyon?"}]
    raw = client.chat.completions.with_raw_response.create(
        model="pryx:main", messages=history, tools=[WEATHER]
    )
    session = raw.headers.get("x-pryx-session")
    c = raw.parse().choices[0]
    expect(c.finish_reason == "tool_calls", c.finish_reason)
    calls = c.message.tool_calls
    expect(len(calls) == 1 and calls[0].id == "call_w1", calls)
    expect(calls[0].function.name == "get_weather", calls[0].function)
    expect(json.loads(calls[0].function.arguments) == {"city": "Paris"}, calls[0].function)
    history += [
        c.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": "call_w1", "content": "sunny"},
    ]
    chunks = list(
        client.chat.completions.create(
            model="pryx:main",
            messages=history,
            tools=[WEATHER],
            stream=True,
            extra_headers={"x-pryx-session": session},
        )
    )
    streamed = [tc for ch in chunks if ch.choices for tc in (ch.choices[0].delta.tool_calls or [])]
    expect(len(streamed) == 1 and streamed[0].id == "call_w2", streamed)
    expect(json.loads(streamed[0].function.arguments) == {"city": "Lyon"}, streamed)
    finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices]
    expect(finishes[-1] == "tool_calls", finishes)
    history += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_w2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": streamed[0].function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_w2", "content": "rain"},
    ]
    final = client.chat.completions.create(
        model="pryx:main", messages=history, tools=[WEATHER],
        extra_headers={"x-pryx-session": session},
    )
    expect(final.choices[0].finish_reason == "stop", final.choices[0].finish_reason)
    expect(final.choices[0].message.content == "Sunny in Paris, rain in Lyon.", final)


@check("an unknown model is NotFoundError")
def _unknown_model():
    try:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
        raise AssertionError("accepted")
    except openai.NotFoundError as e:
        expect(e.code == "model_not_found", e.code)


@check("an unsupported parameter is BadRequestError naming it")
def _unsupported():
    try:
        client.chat.completions.create(
            model="pryx:main", messages=[{"role": "user", "content": "x"}], n=2
        )
        raise AssertionError("accepted")
    except openai.BadRequestError as e:
        expect(e.param == "n", e.param)


@check("a wrong key is AuthenticationError")
def _bad_key():
    bad = openai.OpenAI(base_url=BASE, api_key="wrong", max_retries=0, timeout=30)
    try:
        bad.models.list()
        raise AssertionError("accepted")
    except openai.AuthenticationError:
        pass


def pryx(*args):
    out = subprocess.run([os.environ["PRYX_BIN"], *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


@check("a key from `pryx api-keys create` works, and is AuthenticationError once revoked")
def _api_key():
    made = pryx("api-keys", "create", "--name", "sdk-check", "--json")
    secret = made["secret"]
    expect(secret.startswith("pryx-sk-"), secret)
    keyed = openai.OpenAI(base_url=BASE, api_key=secret, max_retries=0, timeout=30)
    expect([m.id for m in keyed.models.list()] == ["pryx:main"], "models")
    answer = keyed.chat.completions.create(
        model="pryx:main", messages=[{"role": "user", "content": "with a key"}]
    )
    expect(answer.choices[0].message.content == "Answered for a key.", answer)
    listed = pryx("api-keys", "list", "--json")["keys"]
    expect(listed[0]["id"] == made["key"]["id"] and listed[0]["last_used_at"], listed)
    expect(secret not in json.dumps(listed), "the list shows the key")
    pryx("api-keys", "revoke", made["key"]["id"], "--json")
    try:
        keyed.models.list()
        raise AssertionError("a revoked key was accepted")
    except openai.AuthenticationError:
        pass


failed = [n for n, e in results if e is not None]
print(f"openai SDK {openai.__version__}: {len(results) - len(failed)}/{len(results)} checks passed")
sys.exit(1 if failed else 0)
