/**
 * The plan document (Art.19) as one self-contained, printable HTML page: inline CSS (screen and
 * print, A4), no script, no external asset; a Content-Security-Policy that forbids loading any.
 * Every `{{value}}` is HTML-escaped by Handlebars.
 */
export const PLAN_HTML = `<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} — {{planTitle}}</title>
<style>
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0 auto; max-width: 190mm; padding: 12mm 8mm; color: #111; background: #fff;
    font: 10.5pt/1.6 "Hiragino Kaku Gothic ProN", "Hiragino Sans", "Yu Gothic", "Meiryo", "Noto Sans CJK JP", "IPAGothic", "IPAexGothic", sans-serif; }
  h1 { font-size: 18pt; text-align: center; margin: 0 0 4mm; letter-spacing: 0.1em; }
  h2 { font-size: 13pt; border-bottom: 1.5pt solid #333; padding-bottom: 1mm; margin: 8mm 0 3mm; }
  h3 { font-size: 11.5pt; margin: 6mm 0 2mm; }
  h4 { font-size: 10.5pt; margin: 4mm 0 1.5mm; color: #333; }
  p.basis { text-align: center; color: #444; margin: 0 0 6mm; }
  table { width: 100%; border-collapse: collapse; margin: 0 0 3mm; }
  th, td { border: 0.75pt solid #777; padding: 1.2mm 2mm; vertical-align: top; text-align: left; white-space: pre-wrap; overflow-wrap: anywhere; }
  th { background: #eee; font-weight: bold; }
  table.fields th { width: 32%; }
  td.num, th.num { text-align: right; white-space: nowrap; }
  code { font-family: "DejaVu Sans Mono", "Menlo", "Consolas", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
  section.risk { break-inside: avoid-page; page-break-inside: avoid; }
  .muted { color: #555; }
  footer { margin-top: 10mm; border-top: 0.75pt solid #999; padding-top: 2mm; font-size: 9pt; }
  @page { size: A4; margin: 15mm 12mm 18mm; }
  @media print {
    body { max-width: none; padding: 0; }
    thead { display: table-header-group; }
    tr, td, th { break-inside: avoid; page-break-inside: avoid; }
    h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  }
</style>
</head>
<body>
<header>
<h1>{{title}}</h1>
<p class="basis">{{basis}}</p>
</header>

<h2>{{m.plan.overview}}</h2>
<table class="fields">
<tbody>
{{#each overview}}
<tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>
{{/each}}
</tbody>
</table>

<h2>{{m.plan.summary}}</h2>
{{#if summary.length}}
<table>
<thead><tr><th class="num">{{m.plan.summaryNo}}</th><th>{{m.plan.risk}}</th><th>{{m.plan.owner}}</th><th>{{m.plan.level}}</th><th>{{m.plan.treatment}}</th><th>{{m.plan.residual}}</th><th class="num">{{m.plan.controlCount}}</th><th>{{m.plan.consent}}</th></tr></thead>
<tbody>
{{#each summary}}
<tr><td class="num">{{no}}</td><td>{{title}}</td><td>{{owner}}</td><td>{{level}}</td><td>{{treatment}}</td><td>{{residual}}</td><td class="num">{{controlCount}}</td><td>{{consent}}</td></tr>
{{/each}}
</tbody>
</table>
{{else}}
<p>{{m.plan.noItems}}</p>
{{/if}}

<h2>{{m.plan.details}}</h2>
{{#each risks}}
<section class="risk">
<h3>{{no}}. {{title}}</h3>
<table class="fields">
<tbody>
{{#each rows}}
<tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>
{{/each}}
</tbody>
</table>
{{#if treatment.length}}
<h4>{{@root.m.plan.treatmentHeading}}</h4>
<table class="fields">
<tbody>
{{#each treatment}}
<tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>
{{/each}}
</tbody>
</table>
{{/if}}
<h4>{{@root.m.plan.controlsHeading}}</h4>
<table>
<thead><tr><th>{{@root.m.controls.control}}</th><th>{{@root.m.controls.controlOwner}}</th><th>{{@root.m.controls.due}}</th><th>{{@root.m.controls.reason}}</th><th>{{@root.m.controls.reference}}</th></tr></thead>
<tbody>
{{#each controls}}
<tr><td><strong>{{title}}</strong>{{#if description}}<br><span class="muted">{{description}}</span>{{/if}}</td><td>{{owner}}</td><td>{{due}}</td><td>{{reason}}</td><td>{{or reference @root.m.common.none}}</td></tr>
{{/each}}
</tbody>
</table>
<h4>{{@root.m.plan.residualHeading}}</h4>
<table class="fields">
<tbody>
{{#each residual}}
<tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>
{{/each}}
</tbody>
</table>
</section>
{{/each}}

<h2>{{m.plan.resolutions}}</h2>
{{#each resolutions}}
<table class="fields">
<tbody>
{{#each this}}
<tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>
{{/each}}
</tbody>
</table>
{{else}}
<p>{{m.plan.noResolution}}</p>
{{/each}}

<h2>{{m.plan.revisions}}</h2>
<table>
<thead><tr><th class="num">{{m.plan.revisionNo}}</th><th>{{m.plan.revisionRisks}}</th><th>{{m.plan.revisionSubmitted}}</th><th>{{m.plan.revisionOutcome}}</th><th>{{m.plan.revisionEnded}}</th><th>{{m.plan.revisionNote}}</th></tr></thead>
<tbody>
{{#each revisions}}
<tr><td class="num">{{revision}}</td><td>{{risks}}</td><td>{{submitted}}</td><td>{{outcome}}</td><td>{{ended}}</td><td>{{note}}</td></tr>
{{/each}}
</tbody>
</table>

<h2>{{m.plan.consents}}</h2>
{{#if consentsAsked}}
<table>
<thead><tr><th>{{m.plan.risk}}</th><th>{{m.plan.owner}}</th><th>{{m.plan.consentStatus}}</th><th>{{m.plan.acceptedLevel}}</th><th>{{m.plan.answeredAt}}</th><th>{{m.plan.statement}}</th><th>{{m.plan.explained}}</th></tr></thead>
<tbody>
{{#each consents}}
<tr><td>{{risk}}</td><td>{{owner}}</td><td>{{status}}</td><td>{{acceptedLevel}}</td><td>{{answeredAt}}</td><td>{{or statement @root.m.common.none}}</td><td>{{explained}}</td></tr>
{{/each}}
</tbody>
</table>
{{else}}
<p>{{m.plan.consentNotAsked}}</p>
{{/if}}

<footer>
<h2>{{source.heading}}</h2>
<table class="fields">
<tbody>
{{#each source.rows}}
<tr><th scope="row">{{label}}</th><td><code>{{value}}</code></td></tr>
{{/each}}
</tbody>
</table>
{{#if source.regenerateUrl}}
<p>{{source.regenerateText}} <code>GET {{source.regenerateUrl}}</code></p>
{{/if}}
</footer>
</body>
</html>
`;
