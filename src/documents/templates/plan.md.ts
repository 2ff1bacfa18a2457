/** The plan document (Art.19) as Markdown. Labels come from the view (message catalogues); user text goes through `md`. */
export const PLAN_MARKDOWN = `# {{md title}}

{{md basis}}

## {{md m.plan.overview}}

| {{md m.common.item}} | {{md m.common.value}} |
| --- | --- |
{{#each overview}}
| {{md label}} | {{md value}} |
{{/each}}

## {{md m.plan.summary}}

{{#if summary.length}}
| {{md m.plan.summaryNo}} | {{md m.plan.risk}} | {{md m.plan.owner}} | {{md m.plan.level}} | {{md m.plan.treatment}} | {{md m.plan.residual}} | {{md m.plan.controlCount}} | {{md m.plan.consent}} |
| ---: | --- | --- | --- | --- | --- | ---: | --- |
{{#each summary}}
| {{no}} | {{md title}} | {{md owner}} | {{md level}} | {{md treatment}} | {{md residual}} | {{controlCount}} | {{md consent}} |
{{/each}}
{{else}}
{{md m.plan.noItems}}
{{/if}}

## {{md m.plan.details}}
{{#each risks}}

### {{no}}. {{md title}}

{{#each rows}}
- **{{md label}}**: {{md value}}
{{/each}}
{{#if treatment.length}}

#### {{md @root.m.plan.treatmentHeading}}

{{#each treatment}}
- **{{md label}}**: {{md value}}
{{/each}}
{{/if}}

#### {{md @root.m.plan.controlsHeading}}

| {{md @root.m.controls.control}} | {{md @root.m.controls.controlOwner}} | {{md @root.m.controls.due}} | {{md @root.m.controls.reason}} | {{md @root.m.controls.reference}} |
| --- | --- | --- | --- | --- |
{{#each controls}}
| {{md title}}{{#if description}}: {{md description}}{{/if}} | {{md owner}} | {{md due}} | {{md reason}} | {{md (or reference @root.m.common.none)}} |
{{/each}}

#### {{md @root.m.plan.residualHeading}}

{{#each residual}}
- **{{md label}}**: {{md value}}
{{/each}}
{{/each}}

## {{md m.plan.resolutions}}

{{#each resolutions}}
{{#each this}}
- **{{md label}}**: {{md value}}
{{/each}}

{{else}}
{{md m.plan.noResolution}}

{{/each}}
## {{md m.plan.revisions}}

| {{md m.plan.revisionNo}} | {{md m.plan.revisionRisks}} | {{md m.plan.revisionSubmitted}} | {{md m.plan.revisionOutcome}} | {{md m.plan.revisionEnded}} | {{md m.plan.revisionNote}} |
| ---: | --- | --- | --- | --- | --- |
{{#each revisions}}
| {{revision}} | {{md risks}} | {{md submitted}} | {{md outcome}} | {{md ended}} | {{md note}} |
{{/each}}

## {{md m.plan.consents}}

{{#if consentsAsked}}
| {{md m.plan.risk}} | {{md m.plan.owner}} | {{md m.plan.consentStatus}} | {{md m.plan.acceptedLevel}} | {{md m.plan.answeredAt}} | {{md m.plan.statement}} | {{md m.plan.explained}} |
| --- | --- | --- | --- | --- | --- | --- |
{{#each consents}}
| {{md risk}} | {{md owner}} | {{md status}} | {{md acceptedLevel}} | {{md answeredAt}} | {{md (or statement @root.m.common.none)}} | {{md explained}} |
{{/each}}
{{else}}
{{md m.plan.consentNotAsked}}
{{/if}}

## {{md source.heading}}

{{#each source.rows}}
- **{{md label}}**: \`{{value}}\`
{{/each}}
{{#if source.regenerateUrl}}

{{md source.regenerateText}} \`GET {{source.regenerateUrl}}\`
{{/if}}
`;
