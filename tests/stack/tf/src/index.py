import os


def handler(event, context):
    return {"statusCode": 200, "body": "tf " + os.environ.get("WHO", "") + ":" + context.function_version + ":" + event["path"]}
