"""Each network's one identity: key, name, chapter, its forms, and the book's published run.

A chapter that teaches a network ends its definition with a :class:`Network` record, saved with
the network (``ALEXNET = Network(...)  #@save``):

- the **book** form: the book's architecture and hyperparameters (AlexNet at 224×224, 10 epochs…);
- the **native** form, where there is one: the same design adapted to Fashion-MNIST's own 28×28
  images, so that a CPU trains it on all the data in minutes;
- the **book-recipe** form, where the chapter gives one (``book_recipe=``): the native
  architecture (without batch normalization it only borrowed) trained exactly as the book form
  is, plain SGD with the book's batch, learning rate and epochs on unvaried images, so that a
  chapter can tell what the adapted design earns from what the native recipe adds;
- :class:`BookResult`: what the book's own run reached, as its public notebook shows it.

:func:`choose_form` picks the form to train: the book's on a GPU, the native one on a CPU, unless
``form=`` or ``D2LCNN_FORM`` says otherwise; it says which and why. :func:`all_networks` lists the
records of every chapter, in chapter order (chapter 16 compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .. import config

__all__ = ["BOOK_RECIPE", "BOOK_SOURCE", "BookResult", "Form", "Network", "all_networks", "choose_form"]

#: The name of the form that trains the native architecture with the book's recipe.
BOOK_RECIPE = "book-recipe"

#: Where the book's published numbers come from.
BOOK_SOURCE = (
    "Dive into Deep Learning, Chinese edition 2.0 (d2l-zh), MXNet notebooks as executed in the "
    "GitHub repository d2l-ai/d2l-zh-colab (mxnet-cu101 1.7.0; the GPU, printed as gpu(0), is a "
    "Tesla V100 by the same build's use-gpu notebook); 10 epochs on all of Fashion-MNIST"
)


@dataclass(frozen=True)
class BookResult:
    """The book's own run of a network: after its last epoch, the training loss and accuracy
    (means over that epoch), the test accuracy, and training examples per second on its GPU.
    ``notebook``: the public notebook that shows them (in d2l-zh's ``chapter_convolutional-*``)."""

    train_loss: float
    train_acc: float
    test_acc: float
    examples_per_sec: float
    notebook: str
    device: str = "V100"


@dataclass(frozen=True)
class Form:
    """One way to build and train a network.

    ``build()`` makes the network (1 input channel, 10 classes); ``input_size`` is the side of
    the images it is fed (Fashion-MNIST's 28 resized to it when larger). Training: ``num_epochs``
    of minibatch SGD with batches of ``batch_size``; ``lr`` is a number, or a schedule (a callable
    of the fractional epoch, whose ``str`` describes it); ``momentum`` and ``weight_decay`` as in
    Gluon's SGD; ``augment`` varies the training images (see
    :class:`~d2lcnn.tools.data.ArrayLoader`). ``about``: one line saying what the form is.
    ``network``, ``key`` and ``reason`` are filled in by :class:`Network` and :func:`choose_form`.
    """

    name: str
    build: Callable
    input_size: int
    batch_size: int
    num_epochs: int
    lr: float | Callable[[float], float]
    momentum: float = 0.0
    weight_decay: float = 0.0
    augment: Callable | None = None
    about: str = ""
    network: str = ""
    key: str = ""
    reason: str = ""

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """(1, 1, side, side): one example as the network sees it."""
        return (1, 1, self.input_size, self.input_size)

    @property
    def resize(self) -> int | None:
        """The side to resize Fashion-MNIST's 28×28 images to, or None to keep them."""
        return None if self.input_size == 28 else self.input_size

    def load_data(self, quick: bool | None = None, **kwargs):
        """Fashion-MNIST as this form trains on it: (train_iter, test_iter) at ``input_size``,
        batches of ``batch_size``, training images varied by ``augment``; ``quick`` None reads
        :func:`~d2lcnn.config.quick_mode`. ``kwargs`` go to
        :func:`~d2lcnn.tools.data.load_fashion_mnist` (``device``, ``seed`` …)."""
        from .data import load_fashion_mnist

        return load_fashion_mnist(self.batch_size, resize=self.resize, quick=quick,
                                  augment=self.augment, **kwargs)

    def hyperparameters(self) -> dict:
        """The arguments of the chapters' ``train`` after the data: ``num_epochs``, ``lr``,
        ``momentum``, ``weight_decay``, and the form itself (for the report)."""
        return {"num_epochs": self.num_epochs, "lr": self.lr, "momentum": self.momentum,
                "weight_decay": self.weight_decay, "form": self}

    def __str__(self) -> str:
        lines = [f"{self.network}, {self.name} form: {self.about}" if self.about
                 else f"{self.network}, {self.name} form"]
        optimiser = f"lr {self.lr}"
        if self.momentum:
            optimiser += f", momentum {self.momentum:g}"
        if self.weight_decay:
            optimiser += f", weight decay {self.weight_decay:g}"
        augment = f", training images varied by {_name(self.augment)}" if self.augment else ""
        lines.append(f"  {self.input_size}×{self.input_size} inputs, {self.num_epochs} epochs of "
                     f"batch {self.batch_size}, SGD with {optimiser}{augment}")
        if self.reason:
            lines.append(f"  why this form: {self.reason}")
        return "\n".join(lines)


def _name(function) -> str:
    return getattr(function, "__name__", None) or str(function)


@dataclass(frozen=True)
class Network:
    """A network of the series: results ``key`` (e.g. "alexnet"), display ``title``, the
    ``chapter`` that teaches it, its forms and the book's result. ``book_recipe``: a function
    that builds the native architecture for training with the book form's recipe; it makes the
    form "book-recipe" (a like-for-like comparison with the book's run)."""

    key: str
    title: str
    chapter: str
    book: Form
    native: Form | None = None
    book_result: BookResult | None = None
    book_recipe: Callable | None = field(default=None, repr=False, compare=False)
    forms: dict[str, Form] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.book_recipe is not None and self.native is None:
            raise ValueError(f"{self.title}: book_recipe= trains the native architecture with the "
                             "book's recipe, so it needs a native form")
        forms = {}
        for form in (self.book, self.native, self._book_recipe_form()):
            if form is not None:
                forms[form.name] = replace(form, network=self.title, key=self.key)
        object.__setattr__(self, "forms", forms)
        object.__setattr__(self, "book", forms["book"])
        if self.native is not None:
            object.__setattr__(self, "native", forms["native"])

    def _book_recipe_form(self) -> Form | None:
        """The book form's recipe (batch, epochs, learning rate, plain SGD, no augmentation)
        applied to the native architecture that ``book_recipe`` builds, at the native size."""
        if self.book_recipe is None:
            return None
        return replace(self.book, name=BOOK_RECIPE, build=self.book_recipe,
                       input_size=self.native.input_size,
                       about="the native architecture trained with the book form's recipe")

    def form(self, name: str) -> Form:
        """The form called ``name`` ("book", "native" or "book-recipe")."""
        if name not in self.forms:
            raise ValueError(f"{self.title} has no {name!r} form; it has "
                             f"{' and '.join(repr(f) for f in self.forms)}")
        return self.forms[name]


def choose_form(network: Network, form: str | None = None, device=None) -> Form:
    """The form of ``network`` to train, with the reason in its ``reason`` field.

    ``form`` ("book" or "native") or, when it is None, ``D2LCNN_FORM`` decides; otherwise the
    device (default :func:`~d2lcnn.machine.devices.try_gpu`): a GPU trains the book's form, a CPU
    the native one, which it can finish in minutes where the book's would take hours. A network
    with one form (LeNet) always trains that one.
    """
    if form is not None and form not in config.FORMS:
        raise ValueError(f"form={form!r} is not a form: choose {' or '.join(config.FORMS)}")
    if len(network.forms) == 1:
        only = next(iter(network.forms.values()))
        return replace(only, reason=f"{network.title} has one form, the book's")
    asked = form or config.form_override()
    if asked is not None:
        how = f"form={form!r} was passed" if form else f"{config.FORM_ENV}={asked} is set"
        return replace(network.form(asked), reason=how)
    if device is None:
        from ..machine.devices import try_gpu

        device = try_gpu()
    on = f"{device.device_type}({device.device_id})"
    if device.device_type == "gpu":
        return replace(network.book, reason=f"{on} trains the book's form (form='native' or "
                                            f"{config.FORM_ENV}=native for the 28×28 one)")
    return replace(network.native, reason=(
        f"{on} is a CPU: it trains the native form in minutes, the book's would take hours "
        f"(form='book' or {config.FORM_ENV}=book to train it anyway)"))


def all_networks() -> dict[str, Network]:
    """Every chapter's :class:`Network` record, by key, in chapter order."""
    import importlib

    from .. import lessons

    found: dict[str, Network] = {}
    for module_name in lessons.MODULES:
        module = importlib.import_module(f"{lessons.__name__}.{module_name}")
        records = [value for value in vars(module).values() if isinstance(value, Network)]
        for record in sorted(records, key=lambda n: n.chapter):
            found[record.key] = record
    return dict(sorted(found.items(), key=lambda item: item[1].chapter))
