"""The exceptions xltv raises, and the exit code of each.

    XltvError                  exit 1
    ├── SettingsError          exit 2: a setting, config file or providers file is invalid
    ├── CollectError           exit 1: a file could not be read while zipping
    └── UploadError            exit 1: the request failed or the server rejected it
        └── ServerResponseError  exit 1: the server responded with an error status

Errors from requests, zipfile, YAML and jsonschema are translated into these where they
happen, with `raise ... from`, so that `cli.main` maps exceptions to exit codes in one place.
No files found is not an exception: it is a status of the upload's report, exit code 3.
"""

EXIT_OK = 0
EXIT_UPLOAD_FAILED = 1
EXIT_INVALID_SETTINGS = 2
EXIT_NO_FILES = 3


class XltvError(Exception):
    """Base of every error that xltv reports to the user without a traceback."""

    exit_code = EXIT_UPLOAD_FAILED


class SettingsError(XltvError):
    """A setting has an invalid or missing value. Nothing was sent."""

    exit_code = EXIT_INVALID_SETTINGS


class CollectError(XltvError):
    """A collected file vanished or could not be read. No complete import was sent."""


class UploadError(XltvError):
    """The upload did not complete: network failure, timeout or redirect."""

    status = "failed"


class ServerResponseError(UploadError):
    """The server responded with a status other than 200."""

    def __init__(self, message: str, http_status: int) -> None:
        super().__init__(message)
        self.http_status = http_status
        if http_status == 304:
            self.status = "no-new-results"
