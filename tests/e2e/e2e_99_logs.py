# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""After every scenario: the cinder-volume services, where both drivers
ran, logged no error. Expected failures (the injected File Copy fault) are
warnings."""

# Before RabbitMQ answers, oslo.messaging logs its connection retries as
# errors; they are the only ones a healthy run has.
_EXPECTED = ('oslo.messaging._drivers.impl_rabbit',)


def test_cinder_volume_logged_no_error(run):
    errors = []
    for log_path in run.stack.cinder.volume_logs:
        with open(log_path, errors='replace') as log:
            for line in log:
                fields = line.split(None, 5)
                if len(fields) > 4 and fields[3] in ('ERROR', 'CRITICAL') \
                        and fields[4] not in _EXPECTED:
                    errors.append('%s: %s' % (log_path, line.rstrip()[:300]))
    assert errors == [], '\n'.join(errors[:20])
