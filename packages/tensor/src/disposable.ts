// Symbol.dispose, so that `using t = …` frees tensors, Vars and trainers at the end of a block (TypeScript 5.2+).

declare global {
  interface SymbolConstructor {
    /** The method `using` calls at the end of the block (ES explicit resource management; also in @types/node). */
    readonly dispose: unique symbol;
  }
}

// Engines without it (Node < 20.4, older browsers) get the symbol TypeScript's `using` helper falls back to.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('Symbol.dispose');

export {};
