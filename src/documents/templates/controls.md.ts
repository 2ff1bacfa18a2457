/**
 * The Art.18(2) record of controls and reasons as Markdown (GET /documents/controls.md and
 * GraphQL's controlsDocument.markdown). Its entries (one per risk, each independent of the
 * others) are rendered a slice at a time (renderedInSlices): the whole record of 3,828 risks in
 * one call held the event loop ~0.3 s.
 */
export const CONTROLS_MARKDOWN = `# {{md title}}

{{md basis}}
{{#each entries}}

## {{md title}}

{{#each rows}}
- **{{md label}}**: {{md value}}
{{/each}}

| {{md @root.m.controls.control}} | {{md @root.m.controls.controlOwner}} | {{md @root.m.controls.due}} | {{md @root.m.controls.reason}} | {{md @root.m.controls.reference}} | {{md @root.m.controls.controlStatus}} |
| --- | --- | --- | --- | --- | --- |
{{#each controls}}
| {{md title}}{{#if description}}: {{md description}}{{/if}} | {{md owner}} | {{md due}} | {{md reason}} | {{md (or reference @root.m.common.none)}} | {{md status}} |
{{/each}}
{{#if superseded}}

### {{md @root.m.controls.supersededHeading}}
{{#if superseded.treatments.length}}

{{#each superseded.treatments}}
- **{{md label}}**: {{md value}}
{{/each}}
{{/if}}
{{#if superseded.controls.length}}

| {{md @root.m.controls.control}} | {{md @root.m.controls.controlOwner}} | {{md @root.m.controls.due}} | {{md @root.m.controls.reason}} | {{md @root.m.controls.reference}} | {{md @root.m.controls.controlStatus}} | {{md @root.m.controls.evidence}} | {{md @root.m.controls.supersededColumn}} |
| --- | --- | --- | --- | --- | --- | --- | --- |
{{#each superseded.controls}}
| {{md title}}{{#if description}}: {{md description}}{{/if}} | {{md owner}} | {{md due}} | {{md reason}} | {{md (or reference @root.m.common.none)}} | {{md status}} | {{md evidence}} | {{md supersededMark}} |
{{/each}}
{{/if}}
{{/if}}
{{else}}

{{md m.controls.noControls}}
{{/each}}
{{#if source}}

## {{md source.heading}}

{{#each source.rows}}
- **{{md label}}**: \`{{value}}\`
{{/each}}
{{#if source.regenerateUrl}}

{{md source.regenerateText}} \`GET {{source.regenerateUrl}}\`
{{/if}}
{{/if}}
`;
