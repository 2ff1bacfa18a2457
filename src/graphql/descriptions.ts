/**
 * Descriptions shared by many places of the schema (issue 18): every input's commandId and
 * expectedVersion, the point-in-time and paging arguments. One wording everywhere, for tool authors.
 */

export const COMMAND_ID_DESCRIPTION =
  'Idempotency key chosen by the client (1–128 of letters, digits, . _ : -): a retry with the same key by the same user returns the first result and appends nothing.';

export const EXPECTED_VERSION_DESCRIPTION =
  "The entity's version the client last read; when given and the entity has moved on, the command is refused with CONCURRENCY_CONFLICT (expectedVersion, actualVersion).";

export const AS_OF_DESCRIPTION =
  'An instant (ISO 8601 DateTime): the state as it stood then, rebuilt from the log (events recorded at or before it). Not together with atPosition, and not later than now (each BAD_USER_INPUT): omit it for the present state.';

export const AT_POSITION_DESCRIPTION =
  'A log position (RecordedEvent.position or BoardResolution.position, an opaque ordered string): the state right after that event, or, for an event inside an append (a command with its follow-ups, committed at once), right after that append: no reader ever saw half of one. Not together with asOf; not a position: BAD_USER_INPUT.';

export const FIRST_DESCRIPTION = 'Page size: 0 to 500 (default 50); outside that range BAD_USER_INPUT.';

export const AFTER_DESCRIPTION = "Opaque cursor: the endCursor of the previous page (or an edge's cursor) of this same list; omit for the first page. A cursor of another list is BAD_USER_INPUT.";

export const INPUT_ARGUMENT_DESCRIPTION = 'The command; see its input type for each field.';

/** A list without a page whose length the cost cannot know (result-budget.ts): its field says it is charged. */
export const RESULT_BUDGET_DESCRIPTION = "Charged to the request's result budget: QUERY_TOO_COMPLEX once the request's unpaged lists pass 16 MB.";
