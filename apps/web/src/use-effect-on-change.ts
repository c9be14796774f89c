import { useEffect, useRef } from 'react';

/** Runs `effect(value, previous)` after a render in which `value` changed (not on the first). */
export function useEffectOnChange<T>(value: T, effect: (value: T, previous: T) => void): void {
  const previous = useRef(value);
  useEffect(() => {
    if (Object.is(previous.current, value)) return;
    const before = previous.current;
    previous.current = value;
    effect(value, before);
  });
}
