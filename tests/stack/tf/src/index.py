import os

try:
    import greet  # from the layer, when the function has it
    WORD = " " + greet.WORD
except ImportError:
    WORD = ""


def handler(event, context):
    return {"statusCode": 200,
            "body": "tf " + os.environ.get("WHO", "") + ":" + context.function_version + ":" + event["path"] + WORD}
