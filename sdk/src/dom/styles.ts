// The SDK's only stylesheet, adopted into its shadow root (constructable
// stylesheets work under a strict CSP; no <style> element, no style attribute
// text). `.r` resets everything inherited from the host, so page CSS cannot
// reach in; theme tokens arrive as custom properties. The widgets chunk
// (announcements, checklists, launchers, surveys) adds `WIDGET_CSS` when it loads.

export const CSS = `
.r{all:initial;--p:#3b5bdb;--tx:#1f2328;--mu:#656d76;--bg:#fff;--bd:rgba(15,18,26,.55);--rd:8px;--sh:0 8px 28px rgba(0,0,0,.22);--sp:16px;--ff:system-ui,sans-serif;--fs:14px;font-family:var(--ff);font-size:var(--fs);line-height:1.45;color:var(--tx)}
.r *{box-sizing:border-box}
.ov{position:fixed;inset:0;width:100vw;height:100vh;z-index:4;pointer-events:none}
.ov path{fill:var(--bd);pointer-events:auto}
.blk{position:fixed;z-index:4}
.card{position:fixed;z-index:3;background:var(--bg);color:var(--tx);border-radius:var(--rd);box-shadow:var(--sh);padding:var(--sp);width:max-content;max-width:min(360px,calc(100vw - 16px))}
.card:focus-visible{outline:2px solid var(--p);outline-offset:2px}
.modal{z-index:5;left:50%;top:50%;transform:translate(-50%,-50%);max-width:min(480px,calc(100vw - 16px));width:100%}
.st{z-index:6}
.t{font-weight:600;font-size:1.1em;margin:0 0 6px;margin-inline-end:24px}
.b p{margin:0 0 8px}.b img{max-width:100%}.b a{color:var(--p)}
.f{display:flex;gap:8px;justify-content:flex-end;align-items:center;margin-top:12px;flex-wrap:wrap}
.n{margin-inline-end:auto;color:var(--mu);font-size:.85em}
button{font:inherit;cursor:pointer;border-radius:calc(var(--rd) - 2px);padding:6px 12px;border:1px solid var(--p);background:transparent;color:var(--p)}
button.p{background:var(--p);color:#fff}
button:focus-visible{outline:2px solid var(--p);outline-offset:2px}
.x{position:absolute;top:6px;inset-inline-end:6px;border:0;padding:2px 8px;font-size:18px;line-height:1;color:var(--mu)}
.arr{position:absolute;width:12px;height:12px;background:inherit;transform:rotate(45deg)}
.hs{position:fixed;z-index:5;width:18px;height:18px;padding:0;border-radius:50%;border:2px solid #fff;background:var(--p);animation:sl-p 1.6s infinite}
@keyframes sl-p{0%{box-shadow:0 0 0 0 rgba(59,91,219,.6)}100%{box-shadow:0 0 0 14px rgba(59,91,219,0)}}
@media (pointer:coarse){button{min-height:44px;min-width:44px}.t{margin-inline-end:44px}}
@media (prefers-color-scheme:dark){.r{--tx:#e6edf3;--mu:#9198a1;--bg:#22272e;--p:#6d8cff}}
@media (prefers-reduced-motion:reduce){.hs{animation:none}.r *{transition:none!important;animation:none!important}}
`;

export const WIDGET_CSS = `
.ban,.cl,.menu{position:fixed;z-index:3;background:var(--bg);color:var(--tx);border-radius:var(--rd);box-shadow:var(--sh);padding:var(--sp);width:max-content;max-width:min(360px,calc(100vw - 16px))}
.cl:focus-visible{outline:2px solid var(--p);outline-offset:2px}
.ban{z-index:2;left:0;right:0;width:auto;max-width:none;border-radius:0;display:flex;gap:12px;align-items:center;padding:10px;padding-inline:16px 44px}
.ban .f{margin:0}.ban .b p{margin:0}
.so{max-width:min(340px,calc(100vw - 16px))}
.q{display:flex;flex-wrap:wrap;gap:4px;margin:8px 0}.q button{min-width:34px;padding:6px}
.q label{display:flex;gap:6px;align-items:center;width:100%}
textarea{font:inherit;width:100%;min-height:70px;border:1px solid var(--mu);border-radius:4px;padding:6px}
.cl{width:300px}.cl ul,.menu ul{list-style:none;margin:8px 0 0;padding:0}
.cl li button,.menu li button{width:100%;text-align:start;border:0;padding:6px 4px;color:inherit;display:flex;gap:8px}
.cl li.d button{color:var(--mu);text-decoration:line-through}
.bar{height:6px;border-radius:3px;background:var(--mu);overflow:hidden}.bar i{display:block;height:100%;background:var(--p)}
.lb{position:fixed;z-index:3;border-radius:20px;box-shadow:var(--sh)}
.menu{z-index:4;min-width:220px}
@media (pointer:coarse){.q button{min-width:44px}}
`;
