// A Powertools for AWS Lambda (TypeScript) HTTP event handler app: Router from
// @aws-lambda-powertools/event-handler/http, which detects ALB events (requestContext.elb),
// turns them into web Requests and its answers into ALB results.
import { Router } from '@aws-lambda-powertools/event-handler/http';

const app = new Router();

const seen = (req) => {
  const url = new URL(req.url);
  return {
    method: req.method,
    url: req.url,
    pathname: url.pathname,
    query: [...url.searchParams],
    cookie: req.headers.get('cookie'),
    custom: req.headers.get('x-custom'),
    forwardedFor: req.headers.get('x-forwarded-for'),
  };
};

app.get('/pt/hello/:name', async ({ params, req }) => ({ hello: params.name, ...seen(req) }));

app.post('/pt/items', async ({ req }) => {
  const item = await req.json();
  return new Response(JSON.stringify({ created: item, ...seen(req) }), {
    status: 201,
    headers: { 'content-type': 'application/json', location: `/pt/items/${item.id}` },
  });
});

app.delete('/pt/items/:id', async ({ params }) =>
  new Response(null, { status: 204, headers: { 'x-deleted': params.id } }));

app.get('/pt/cookies', async ({ req }) => {
  const headers = new Headers({ 'content-type': 'application/json' });
  headers.append('set-cookie', 'session=abc123; Path=/; HttpOnly');
  headers.append('set-cookie', 'theme=dark; Path=/pt');
  return new Response(JSON.stringify(seen(req)), { status: 200, headers });
});

app.get('/pt/text', async () =>
  new Response('plain words', { status: 200, headers: { 'content-type': 'text/plain', 'x-custom-header': 'yes' } }));

export const handler = async (event, context) => app.resolve(event, context);
