// The bench's Node handler: lb (runtime nodejs20.x, handler handler.handler, code
// tests/bench/peers) and serverless-offline (serverless.yml) both run this file.
exports.handler = async () => ({ statusCode: 200, body: 'ok' });
