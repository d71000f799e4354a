/**
 * What `node --disable-proto=delete` does, for a process started as `strato …` (a bin script
 * cannot pass Node flags): `Object.prototype.__proto__` is removed, so `obj['__proto__'] = v`
 * with a name from a request or a file creates an ordinary property instead of replacing the
 * object's prototype. Defence in depth: request data lives in Maps and null-prototype objects
 * anyway. `Object.getPrototypeOf`/`setPrototypeOf` and `{ __proto__: x }` literals still work.
 */
export function disableProtoAccessor(): void {
  Reflect.deleteProperty(Object.prototype, '__proto__');
}
