"""Every model, imported in one place so Alembic and tests see the whole schema."""

from normhub.accounts.models import *  # noqa: F403
from normhub.api.models import *  # noqa: F403
from normhub.communities.models import *  # noqa: F403
from normhub.digest.models import *  # noqa: F403
from normhub.discussion.models import *  # noqa: F403
from normhub.exposure.models import *  # noqa: F403
from normhub.mail.models import *  # noqa: F403
from normhub.mail.queue import QueuedEmail  # noqa: F401
from normhub.norms.models import *  # noqa: F403
from normhub.notifications.models import *  # noqa: F403
from normhub.responses.models import *  # noqa: F403
from normhub.reviews.models import *  # noqa: F403
from normhub.search.postgres.models import *  # noqa: F403
