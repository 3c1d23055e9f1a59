// Validates every event lb sends with Powertools' ALB schemas (@aws-lambda-powertools/parser
// with zod) and answers with the verdict, so tests/clients/test_powertools.py can assert that
// each request lb turns into an event is one Powertools accepts.
//
// SCHEMA=single: AlbSchema (the target group's default mode);
// SCHEMA=multi:  AlbMultiValueHeadersSchema (lambda.multi_value_headers.enabled).
// Beside Powertools' own schema, the same schema made .strict() rejects keys it does not know,
// and `pair` checks that exactly the mode's pair of maps is present (real ALB never sends both).
import { parse } from '@aws-lambda-powertools/parser';
import { AlbMultiValueHeadersSchema, AlbSchema } from '@aws-lambda-powertools/parser/schemas/alb';

const multi = process.env.SCHEMA === 'multi';
const schema = multi ? AlbMultiValueHeadersSchema : AlbSchema;
const strict = schema.strict();

const issues = (r) => (r.success ? [] : r.error.issues ?? [String(r.error)]);

export const handler = async (event) => {
  const powertools = parse(event, undefined, schema, true);
  const strictResult = strict.safeParse(event);
  const has = (k) => Object.prototype.hasOwnProperty.call(event, k);
  const pair = multi
    ? has('multiValueHeaders') && has('multiValueQueryStringParameters') &&
      !has('headers') && !has('queryStringParameters')
    : has('headers') && has('queryStringParameters') &&
      !has('multiValueHeaders') && !has('multiValueQueryStringParameters');
  const body = powertools.success
    ? Buffer.from(powertools.data.body, powertools.data.isBase64Encoded ? 'base64' : 'utf8')
    : Buffer.alloc(0);
  const verdict = {
    schema: multi ? 'AlbMultiValueHeadersSchema' : 'AlbSchema',
    valid: powertools.success,
    issues: issues(powertools),
    strictValid: strictResult.success,
    strictIssues: issues(strictResult),
    pair,
    bodyHex: body.toString('hex'),
    event,
  };
  const type = 'application/json';
  return {
    statusCode: 200,
    ...(multi ? { multiValueHeaders: { 'content-type': [type] } } : { headers: { 'content-type': type } }),
    body: JSON.stringify(verdict),
  };
};
