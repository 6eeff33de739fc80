import { describe, expect, test } from 'vitest';
import { DEFAULT_SPEC_PARAMS, speculativeQuery } from './speculative_params.js';

describe('speculativeQuery', () => {
  test('fixed order, spaces as %20', () => {
    expect(speculativeQuery({ prompt: 'Once upon a time', max_tokens: 64, method: 'ngram', spec_tokens: 4 })).toBe(
      'prompt=Once%20upon%20a%20time&max_tokens=64&method=ngram&spec_tokens=4',
    );
  });

  test('reserved characters and newlines are escaped', () => {
    expect(speculativeQuery({ prompt: 'a&b=c+d\n?', max_tokens: 1, method: 'draft', spec_tokens: 8 })).toBe(
      'prompt=a%26b%3Dc%2Bd%0A%3F&max_tokens=1&method=draft&spec_tokens=8',
    );
  });

  test('the default prompt repeats itself (prompt lookup has n-grams to find)', () => {
    expect(DEFAULT_SPEC_PARAMS.prompt.split('said, "I want to play with your ball."')).toHaveLength(3);
  });
});
