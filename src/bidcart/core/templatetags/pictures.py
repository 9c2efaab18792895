"""Showing stored pictures (core/images.py) on pages: `{% picture image "list" %}` writes a `<picture>`
with the WebP rendition, the JPEG/PNG one as the `<img>`, its width and height (nothing jumps while it
loads) and lazy loading; `{% gallery images alt %}` is the product / lot page's main image with
thumbnails (core/static/core/gallery.js switches them, the main image links to the zoom size)."""

from django import template

from bidcart.core import images

register = template.Library()


@register.simple_tag
def rendition(image, kind: str) -> images.Picture:
    """`image` is a ProductImage or LotImage: the URLs and size of one of its renditions."""
    return images.picture(image.image, image.width, image.height, kind)


@register.inclusion_tag("core/_picture.html")
def picture(image, kind: str = "list", alt: str = "", eager: bool = False, testid: str = "") -> dict:
    return {"p": rendition(image, kind), "alt": image.alt or alt, "eager": eager, "testid": testid}


@register.inclusion_tag("core/_gallery.html", takes_context=True)
def gallery(context, images_, alt: str) -> dict:
    """The main picture (detail size, loaded at once) and, when there are several, a row of thumbnails."""
    slides = [
        {"image": i, "detail": rendition(i, "detail"), "zoom": rendition(i, "zoom"), "alt": i.alt or alt}
        for i in images_
    ]
    return {"slides": slides, "alt": alt, "request": context.get("request")}
