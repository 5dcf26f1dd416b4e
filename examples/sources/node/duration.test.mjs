// Sample tests for duration.mjs, run by Node's built-in test runner. One fails and one is
// skipped on purpose, so the JUnit XML written by its junit reporter contains every outcome.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { formatDuration } from "./duration.mjs";

describe("formatDuration", () => {
  test("shows milliseconds below one second", () => {
    assert.equal(formatDuration(250), "250 ms");
  });

  test("combines hours, minutes and seconds", () => {
    assert.equal(formatDuration(3_725_000), "1 h 2 min 5 s");
  });

  test("rejects a negative duration", () => {
    assert.throws(() => formatDuration(-1), RangeError);
  });

  test("rounds to the nearest second", () => {
    // Fails on purpose: formatDuration truncates instead of rounding.
    assert.equal(formatDuration(1_999), "2 s");
  });

  test("shows days", { skip: "days are not supported yet" }, () => {
    assert.equal(formatDuration(90_000_000), "1 d 1 h");
  });
});
