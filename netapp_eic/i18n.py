# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""oslo.i18n integration: ``_`` marks user-facing exception messages."""

import oslo_i18n

DOMAIN = 'netapp_eic'

_translators = oslo_i18n.TranslatorFactory(domain=DOMAIN)

_ = _translators.primary
