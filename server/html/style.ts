/** The stylesheet of strato's HTML pages (inline, allowed by hash in the CSP). */
export const PAGE_STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d8dee4;--accent:#0b5cad;--chip:#eef3f9}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--panel:#161b22;--line:#30363d;--accent:#58a6ff;--chip:#1c2533}}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);background:var(--bg)}
header.top{border-bottom:1px solid var(--line);background:var(--panel)}
header.top nav,main,footer{max-width:72rem;margin:0 auto;padding:.6rem 1rem}
header.top nav{display:flex;gap:1.2rem;align-items:baseline;flex-wrap:wrap}
header.top .brand{font-weight:700;font-size:1.1rem;margin-right:auto}
a{color:var(--accent)}a:focus-visible,button:focus-visible,summary:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
h1{font-size:1.5rem;margin:1rem 0 .2rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
code,pre,kbd{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.7rem .8rem;overflow:auto;margin:.2rem 0 1rem}
.muted{color:var(--muted)}
.lead{font-size:1.05rem;max-width:50rem}
.chips{display:flex;flex-wrap:wrap;gap:.3rem;list-style:none;padding:0;margin:.3rem 0}
.chips li{background:var(--chip);border-radius:1rem;padding:0 .6rem;font-size:.85em}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
thead th{font-weight:600;color:var(--muted);font-size:.85em}
tbody th{font-family:ui-monospace,monospace;font-weight:600}
details>summary{cursor:pointer}
dl.attrs{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0}
dl.attrs dt{font-family:ui-monospace,monospace;color:var(--muted)}dl.attrs dd{margin:0;overflow-wrap:anywhere}
.search{display:flex;gap:.5rem;align-items:center;margin:1rem 0;flex-wrap:wrap}
.search input{font:inherit;padding:.4rem .6rem;min-width:18rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
button{font:inherit;padding:.35rem .8rem;border:1px solid var(--line);border-radius:6px;background:var(--panel);color:var(--fg);cursor:pointer}
ul.datasets{list-style:none;padding:0;margin:0}
ul.datasets>li{border:1px solid var(--line);border-radius:8px;padding:.7rem 1rem;margin:.6rem 0}
ul.datasets h3{margin:0;font-size:1.05rem}
.snippet{position:relative}.snippet button{position:absolute;top:.35rem;right:.35rem;font-size:.8em;padding:.15rem .5rem}
figure{margin:.5rem 0 1rem}figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:repeating-conic-gradient(#e8e8e8 0 25%,#fff 0 50%) 0 0/16px 16px}
figcaption{color:var(--muted);font-size:.9em}
.dims{font-family:ui-monospace,monospace}
footer{color:var(--muted);font-size:.85em;border-top:1px solid var(--line);margin-top:2rem}
[hidden]{display:none!important}
.skip{position:absolute;left:-9999px;top:.4rem;background:var(--bg);padding:.3rem .6rem;z-index:1}.skip:focus{left:1rem}
`;
